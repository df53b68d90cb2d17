//! Signing in to the console and proving each request is the signed-in admin's.
//!
//! A login token is an admin JWT, verified with exactly the admin API's rules
//! (`iss`, `exp`, the `app_ids` grant). `partnerctl console` mints one for the
//! console's own audience (no admin API token, then) and prints it as a link,
//! whose page asks to continue with a form (so a link from someone else cannot
//! sign a browser in unawares); an identity provider's admin token can be pasted
//! instead. Each token opens one session (the hash of its signed part is recorded
//! until it expires), so a link that leaks from a browser's history opens nothing. The session is a signed
//! cookie (HttpOnly, SameSite=Strict, and `Secure` with the `__Host-` prefix on
//! https) holding the admin, the app and a CSRF token; every form posts that
//! token back and is refused from another origin.

use axum::extract::{FromRequest, FromRequestParts, Query, Request, State};
use axum::http::header::{COOKIE, HOST, LOCATION, ORIGIN, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use partner_domain::AppId;
use partner_domain::api_key::ApiKeyHash;
use partner_service::AppState;
use partner_service::admin_auth::AdminApp;
use partner_service::html::{error_page, esc};
use partner_service::session::{self, CONSOLE_TTL};
use serde::Deserialize;

use super::layout;

const COOKIE_SECURE: &str = "__Host-console";
const COOKIE_PLAIN: &str = "console";

/// The signed-in admin of a console request.
#[derive(Debug, Clone)]
pub(crate) struct Console {
    pub admin: AdminApp,
    pub app_name: String,
    pub csrf: String,
}

/// Whether the console is served over https: then its cookie is `Secure` and
/// carries the `__Host-` prefix (this origin only, no `Domain`, path `/`).
fn https(state: &AppState, headers: &HeaderMap) -> bool {
    state
        .config()
        .public_base_url
        .as_deref()
        .is_some_and(|url| url.starts_with("https://"))
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|proto| proto.eq_ignore_ascii_case("https"))
}

fn cookie_value<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

fn set_cookie(response: &mut Response, secure: bool, value: &str, max_age: u64) {
    let line = if secure {
        format!(
            "{COOKIE_SECURE}={value}; Path=/; Max-Age={max_age}; HttpOnly; Secure; SameSite=Strict"
        )
    } else {
        format!("{COOKIE_PLAIN}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict")
    };
    if let Ok(value) = HeaderValue::from_str(&line) {
        response.headers_mut().append(SET_COOKIE, value);
    }
}

fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

impl FromRequestParts<AppState> for Console {
    /// No valid session: to the login page.
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let token = if https(state, &parts.headers) {
            cookie_value(&parts.headers, COOKIE_SECURE)
        } else {
            cookie_value(&parts.headers, COOKIE_PLAIN)
        };
        let claims = match token {
            Some(token) => session::verify_console(state, token).await.ok(),
            None => None,
        };
        let Some(claims) = claims else {
            return Err(see_other(super::LOGIN));
        };
        let app_id = AppId::parse("app_id", &claims.app_id).map_err(|_| see_other(super::LOGIN))?;
        partner_service::http::note_app(&parts.extensions, app_id.as_str());
        Ok(Console {
            admin: AdminApp {
                app_id,
                subject: claims.sub,
            },
            app_name: claims.app_name,
            csrf: claims.csrf,
        })
    }
}

/// Whether a form comes from a page of this origin. A browser names the page's
/// origin on every form post (`Origin`) and says whether it is this site's
/// (`Sec-Fetch-Site`); a post that says it comes from elsewhere is refused
/// before anything else is looked at.
fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return false;
    }
    match headers.get(ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(origin) => {
            let host = headers.get(HOST).and_then(|v| v.to_str().ok());
            let origin_host = origin.split_once("://").map(|(_, rest)| rest);
            host.is_some() && origin_host == host
        }
    }
}

fn forbidden(message: &str) -> Response {
    error_page(StatusCode::FORBIDDEN, "This form was refused", message)
}

/// A form posted by the signed-in admin from a console page: the session, the
/// origin and the CSRF token are checked before the fields are handed on.
#[derive(Debug)]
pub(crate) struct Form {
    pub console: Console,
    fields: Vec<(String, String)>,
}

impl Form {
    /// A field's value, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.trim())
            .filter(|value| !value.is_empty())
    }

    /// Every value of a repeated field (checkboxes).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .collect()
    }
}

impl FromRequest<AppState> for Form {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        if !same_origin(&parts.headers) {
            return Err(forbidden(
                "It was sent from another site. Nothing was changed.",
            ));
        }
        let console = Console::from_request_parts(&mut parts, state).await?;
        let bytes = axum::body::to_bytes(body, partner_service::http::MAX_BODY_BYTES)
            .await
            .map_err(|_| forbidden("The form is too large. Nothing was changed."))?;
        let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| forbidden("The form could not be read. Nothing was changed."))?;
        let sent = fields
            .iter()
            .find(|(key, _)| key == "csrf")
            .map(|(_, value)| value.as_str())
            .unwrap_or_default();
        // Compared through their hashes, so the comparison's time says nothing
        // about the token.
        if ApiKeyHash::of(sent) != ApiKeyHash::of(&console.csrf) {
            return Err(forbidden(
                "It was not sent from a page of this console (its security token is missing or old). Reload the page and try again. Nothing was changed.",
            ));
        }
        Ok(Form { console, fields })
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoginQuery {
    token: Option<String>,
    app: Option<String>,
    signed_out: Option<String>,
}

fn login_problem(message: &str) -> Response {
    error_page(StatusCode::UNAUTHORIZED, "You are not signed in", message)
}

/// Opens a session for `token` (an admin JWT): the same checks as the admin API,
/// plus: the token opens no other session. `app` chooses among the apps a token
/// grants; a token granting one app needs none.
async fn open_session(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    app: Option<&str>,
) -> Response {
    let refused = "This login link or token is not valid: it has expired, was used before, or does not grant this app. Ask for a new link (partnerctl console).";
    let verified = match login_claims(&state.keys().await.admin, token) {
        Ok(claims) => Ok(claims),
        // Perhaps signed with a secret rotated in since this instance read it.
        Err(err) => match state.keys_after_refusal().await {
            Some(keys) => login_claims(&keys.admin, token),
            None => Err(err),
        },
    };
    let claims = match verified {
        Ok(claims) => claims,
        Err(err) => {
            tracing::info!(reason = %err, "console login refused");
            return login_problem(refused);
        }
    };
    let app = match (app, claims.app_ids.as_slice()) {
        (Some(app), _) => app.to_owned(),
        (None, [only]) => only.clone(),
        (None, _) => {
            return login_problem("This token grants several apps: name the app to administer.");
        }
    };
    let Ok(app_id) = AppId::parse("app", &app) else {
        return login_problem(refused);
    };
    if !claims.grants(&app_id) {
        return login_problem(refused);
    }
    let store = state.store();
    let app_record = match store.apps().get(&app_id).await {
        Ok(Some(app)) => app,
        Ok(None) => return login_problem(refused),
        Err(err) => return layout::failed(&err),
    };
    let exp = i64::try_from(claims.exp).unwrap_or(i64::MAX);
    match store
        .apps()
        .use_login_token(login_hash(token).as_str(), exp)
        .await
    {
        Ok(true) => {}
        Ok(false) => return login_problem(refused),
        Err(err) => return layout::failed(&err),
    }
    let keys = state.keys().await;
    let Ok(cookie) = session::mint_console(keys.session(), &claims.sub, &app_id, &app_record.name)
    else {
        return layout::failed(&"no SESSION_SECRET is configured");
    };
    tracing::info!(app = %app_id, admin = %claims.sub, "console session opened");
    // To a URL without the token, so it stays out of the history from now on.
    let mut response = see_other(super::APPLICATIONS);
    set_cookie(
        &mut response,
        https(state, headers),
        &cookie,
        CONSOLE_TTL.as_secs(),
    );
    response
}

/// A login link's token (its own audience, minted by `partnerctl console`) or a
/// pasted admin token, verified as the admin API verifies its tokens.
fn login_claims(
    verifier: &partner_service::admin_auth::AdminVerifier,
    token: &str,
) -> Result<partner_service::admin_auth::AdminClaims, partner_service::admin_auth::TokenError> {
    verifier
        .verify_console_login(token)
        .or_else(|_| verifier.verify(token))
}

/// What marks a login token used: the hash of its signed part (header and claims),
/// so re-encoding its signature (ES256 signatures have two valid forms) does not
/// make it a new token.
fn login_hash(token: &str) -> ApiKeyHash {
    ApiKeyHash::of(token.rsplit_once('.').map_or(token, |(signed, _)| signed))
}

/// `GET /admin/login?token=…`: a login link asks to continue (a form posted from
/// this page), so a link sent by someone else cannot sign a browser in unawares;
/// without a token, the sign-in page.
pub(crate) async fn login_page(Query(query): Query<LoginQuery>) -> Response {
    match query.token.as_deref() {
        Some(token) => layout::continue_sign_in(token, query.app.as_deref()),
        None => layout::sign_in(query.signed_out.is_some()),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    token: String,
    app: Option<String>,
}

/// `POST /admin/login` (the sign-in page's form): a pasted admin JWT.
pub(crate) async fn login_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    // Signing in from another site's form would sign this browser in as someone else.
    if !same_origin(&headers) {
        return forbidden("It was sent from another site.");
    }
    let Ok(form) = serde_urlencoded::from_bytes::<LoginForm>(&body) else {
        return login_problem("Paste an admin token to sign in.");
    };
    let app = form.app.as_deref().map(str::trim).filter(|a| !a.is_empty());
    open_session(&state, &headers, form.token.trim(), app).await
}

/// `POST /admin/logout`: forgets the cookie in this browser.
pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Form,
) -> Response {
    tracing::info!(app = %form.console.admin.app_id, "console session closed");
    let mut response = see_other(&format!("{}?signed_out=1", super::LOGIN));
    set_cookie(&mut response, https(&state, &headers), "", 0);
    response
}

/// The hidden field every console form carries.
pub(super) fn csrf_field(console: &Console) -> String {
    format!(
        r#"<input type="hidden" name="csrf" value="{}">"#,
        esc(&console.csrf)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn a_form_from_this_origin_passes_and_from_another_does_not() {
        assert!(same_origin(&headers(&[
            ("host", "console.example"),
            ("origin", "https://console.example")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "console.example"),
            ("origin", "https://evil.example")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "console.example"),
            ("sec-fetch-site", "cross-site")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "console.example"),
            ("origin", "null")
        ])));
        // No browser signals at all (curl): the CSRF token alone decides.
        assert!(same_origin(&headers(&[("host", "console.example")])));
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let map = headers(&[("cookie", "a=1; console=tok.en.x; b=2")]);
        assert_eq!(cookie_value(&map, COOKIE_PLAIN), Some("tok.en.x"));
        assert_eq!(cookie_value(&map, COOKIE_SECURE), None);
    }
}
