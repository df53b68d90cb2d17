//! Listing and reviewing applications.

use axum::Json;
use axum::extract::State;
use partner_domain::records::ApplicationStatus;
use partner_domain::text::optional_text;
use partner_domain::{ApplicationId, FieldError, ReferralCode};
use partner_service::admin_auth::AdminApp;
use partner_service::commands::review::{self, Decision};
use partner_service::commands::{CommandError, Missing};
use partner_service::extract::{self, PathParam, QueryParams};
use partner_service::views::ListPage;
use partner_service::views::applications::{ApplicationView, ApprovedPartnerView};
use partner_service::{ApiError, AppState};
use serde::{Deserialize, Serialize};

use crate::Paging;

#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    status: Option<String>,
    #[serde(flatten)]
    paging: Paging,
}

fn parse_status(raw: &str) -> Result<ApplicationStatus, FieldError> {
    match raw {
        "pending" => Ok(ApplicationStatus::Pending),
        "approved" => Ok(ApplicationStatus::Approved),
        "rejected" => Ok(ApplicationStatus::Rejected),
        _ => Err(FieldError::new(
            "status",
            "must be pending, approved or rejected",
        )),
    }
}

/// `GET …/applications?status=&limit=&cursor=`: newest first.
pub(crate) async fn list(
    State(state): State<AppState>,
    admin: AdminApp,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<ListPage<ApplicationView>>, ApiError> {
    let status = query.status.as_deref().map(parse_status).transpose()?;
    let limit = query.paging.limit()?;
    let (data, next_cursor) = state
        .store()
        .applications()
        .list(&admin.app_id, status, limit, query.paging.cursor)
        .await?;
    let data = data.into_iter().map(ApplicationView::from).collect();
    Ok(Json(ListPage { data, next_cursor }))
}

/// `GET …/applications/{id}`.
pub(crate) async fn get(
    State(state): State<AppState>,
    admin: AdminApp,
    PathParam((_, id)): PathParam<(String, String)>,
) -> Result<Json<ApplicationView>, ApiError> {
    let id = ApplicationId::parse("id", &id)?;
    let application = state
        .store()
        .applications()
        .get(&admin.app_id, &id)
        .await?
        .ok_or(CommandError::NotFound(Missing::Application))?;
    Ok(Json(application.into()))
}

/// `{"action": "approve", "code"?}` or `{"action": "reject", "rejectionReason"?}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ReviewBody {
    action: String,
    code: Option<String>,
    rejection_reason: Option<String>,
}

impl ReviewBody {
    fn parse(self) -> Result<Decision, FieldError> {
        match self.action.as_str() {
            "approve" => {
                if self.rejection_reason.is_some() {
                    return Err(FieldError::new(
                        "rejectionReason",
                        "is only for action reject",
                    ));
                }
                let code = self
                    .code
                    .as_deref()
                    .map(|c| ReferralCode::parse("code", c))
                    .transpose()?;
                Ok(Decision::Approve { code })
            }
            "reject" => {
                if self.code.is_some() {
                    return Err(FieldError::new("code", "is only for action approve"));
                }
                let reason =
                    optional_text("rejectionReason", self.rejection_reason.as_deref(), 1000)?;
                Ok(Decision::Reject { reason })
            }
            _ => Err(FieldError::new("action", "must be approve or reject")),
        }
    }
}

/// `{"ids": [...], "action": "approve" | "reject", "rejectionReason"?}`: up to 100
/// applications, reviewed the same way (approvals get generated codes).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct BulkReviewBody {
    ids: Vec<String>,
    action: String,
    rejection_reason: Option<String>,
}

impl BulkReviewBody {
    fn parse(self) -> Result<(Vec<ApplicationId>, Decision), FieldError> {
        if self.ids.is_empty() || self.ids.len() > review::MAX_BULK_REVIEW {
            return Err(FieldError::new("ids", "must name 1 to 100 applications"));
        }
        let mut ids = Vec::with_capacity(self.ids.len());
        for raw in &self.ids {
            let id = ApplicationId::parse("ids", raw)?;
            if ids.contains(&id) {
                return Err(FieldError::new("ids", "must not name an application twice"));
            }
            ids.push(id);
        }
        let decision = ReviewBody {
            action: self.action,
            code: None,
            rejection_reason: self.rejection_reason,
        }
        .parse()?;
        Ok((ids, decision))
    }
}

/// One application's outcome in a bulk review: `status` is what a single review
/// would have answered (200, 404, 409, …), with its body or its problem.
#[derive(Debug, Serialize)]
pub(crate) struct BulkResult {
    id: ApplicationId,
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    application: Option<ApplicationView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    affiliate: Option<ApprovedPartnerView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<BulkProblem>,
}

#[derive(Debug, Serialize)]
pub(crate) struct BulkProblem {
    code: &'static str,
    detail: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct BulkReviewResponse {
    results: Vec<BulkResult>,
}

/// `POST …/applications/bulk-review`: 200 with one outcome per application.
pub(crate) async fn bulk_review(
    State(state): State<AppState>,
    admin: AdminApp,
    extract::Json(body): extract::Json<BulkReviewBody>,
) -> Result<Json<BulkReviewResponse>, ApiError> {
    let (ids, decision) = body.parse()?;
    let outcomes = review::review_many(&state, &admin.app_id, ids, decision, &admin.actor()).await;
    let results = outcomes
        .into_iter()
        .map(|(id, outcome)| match outcome {
            Ok(reviewed) => BulkResult {
                id,
                status: 200,
                application: Some(reviewed.application.into()),
                affiliate: reviewed.affiliate.map(ApprovedPartnerView::from),
                problem: None,
            },
            Err(err) => {
                let problem = ApiError::from(err);
                if problem.status().is_server_error() {
                    tracing::error!(
                        error = %partner_service::problem::cause_chain(&problem),
                        application = %id,
                        "bulk review item failed"
                    );
                }
                BulkResult {
                    id,
                    status: problem.status().as_u16(),
                    application: None,
                    affiliate: None,
                    problem: Some(BulkProblem {
                        code: problem.code(),
                        detail: problem.detail().to_owned(),
                    }),
                }
            }
        })
        .collect();
    Ok(Json(BulkReviewResponse { results }))
}

#[derive(Debug, Serialize)]
pub(crate) struct ReviewResponse {
    application: ApplicationView,
    #[serde(skip_serializing_if = "Option::is_none")]
    affiliate: Option<ApprovedPartnerView>,
}

/// `POST …/applications/{id}/review`.
pub(crate) async fn review(
    State(state): State<AppState>,
    admin: AdminApp,
    PathParam((_, id)): PathParam<(String, String)>,
    extract::Json(body): extract::Json<ReviewBody>,
) -> Result<Json<ReviewResponse>, ApiError> {
    let id = ApplicationId::parse("id", &id)?;
    let decision = body.parse()?;
    let reviewed = review::review(&state, &admin.app_id, &id, decision, &admin.actor()).await?;
    Ok(Json(ReviewResponse {
        application: reviewed.application.into(),
        affiliate: reviewed.affiliate.map(ApprovedPartnerView::from),
    }))
}
