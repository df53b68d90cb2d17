//! The docs and the deployment stay true to the code: the OpenAPI description,
//! `template.yaml` and the routers list the same routes, every listed route is
//! served, and the template's table is the table the store creates.

use std::collections::BTreeSet;

use partner_service::AppState;
use partner_store::keys::SCHEMA;
use serde_yaml::Value;
use tower::ServiceExt as _;

fn read_yaml(file: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(file);
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// (METHOD, path) of every route the routers declare.
fn code_routes() -> BTreeSet<(String, String)> {
    partnerctl::FUNCTIONS
        .iter()
        .flat_map(|function| function.routes.iter())
        .map(|route| (route.method.as_method().to_string(), route.path.to_owned()))
        .collect()
}

/// A CloudFormation intrinsic such as `!GetAtt X.Arn` comes back tagged; this
/// looks through the tag.
fn untag(value: &Value) -> &Value {
    match value {
        Value::Tagged(tagged) => &tagged.value,
        other => other,
    }
}

#[test]
fn the_openapi_description_lists_exactly_the_routes_the_routers_serve() {
    let spec = read_yaml("openapi.yaml");
    let mut documented = BTreeSet::new();
    for (path, item) in spec["paths"].as_mapping().unwrap() {
        for (method, _) in item.as_mapping().unwrap() {
            let method = method.as_str().unwrap();
            if ["get", "post", "put", "patch", "delete", "options"].contains(&method) {
                documented.insert((method.to_uppercase(), path.as_str().unwrap().to_owned()));
            }
        }
    }
    assert_eq!(documented, code_routes());
}

/// Every operation may be refused by a rate limit (the failed-authentication
/// limit wraps every function), so each documents its 429.
#[test]
fn every_operation_documents_its_429() {
    let spec = read_yaml("openapi.yaml");
    for (path, item) in spec["paths"].as_mapping().unwrap() {
        for (method, operation) in item.as_mapping().unwrap() {
            let responses = &operation["responses"];
            if responses.is_mapping() {
                assert!(
                    !responses["429"].is_null(),
                    "{} {} has no 429",
                    method.as_str().unwrap(),
                    path.as_str().unwrap()
                );
            }
        }
    }
}

#[test]
fn the_template_deploys_every_function_with_exactly_its_routes() {
    let template = read_yaml("template.yaml");
    let mut deployed = BTreeSet::new();
    for (_, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        assert_eq!(resource["Metadata"]["BuildMethod"], "rust-cargolambda");
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut routes = BTreeSet::new();
        if let Some(events) = resource["Properties"]["Events"].as_mapping() {
            for (_, event) in events {
                if event["Type"] == "HttpApi" {
                    let props = &event["Properties"];
                    routes.insert((
                        props["Method"].as_str().unwrap().to_uppercase(),
                        props["Path"].as_str().unwrap().to_owned(),
                    ));
                }
            }
        }
        // The webhook dispatcher runs twice, once per lane (main and slow), each
        // on its own queue; any other binary once.
        let again = !deployed.insert(binary.clone());
        assert!(
            !again || (binary == "webhook-dispatcher" && routes.is_empty()),
            "{binary} is deployed twice"
        );
        let Some(function) = partnerctl::FUNCTIONS.iter().find(|f| f.name == binary) else {
            assert!(
                routes.is_empty(),
                "{binary} is not an HTTP function but has routes"
            );
            continue;
        };
        let expected: BTreeSet<_> = function
            .every_route()
            .map(|r| (r.method.as_method().to_string(), r.path.to_owned()))
            .collect();
        assert_eq!(routes, expected, "routes of {binary}");
    }
    // Every crate in functions/ is a binary the template deploys, and nothing else is.
    let functions_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions");
    let crates: BTreeSet<String> = std::fs::read_dir(functions_dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(deployed, crates);
    for function in partnerctl::FUNCTIONS {
        assert!(
            deployed.contains(function.name),
            "{} is not deployed",
            function.name
        );
    }
}

#[test]
fn the_template_table_is_the_table_the_store_creates() {
    let template = read_yaml("template.yaml");
    let table = &template["Resources"]["Table"]["Properties"];
    let key_schema = |keys: &Value| -> Vec<(String, String)> {
        keys.as_sequence()
            .unwrap()
            .iter()
            .map(|k| {
                (
                    k["AttributeName"].as_str().unwrap().to_owned(),
                    k["KeyType"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(
        key_schema(&table["KeySchema"]),
        [
            (SCHEMA.partition_key.to_owned(), "HASH".to_owned()),
            (SCHEMA.sort_key.to_owned(), "RANGE".to_owned())
        ]
    );
    let indexes = table["GlobalSecondaryIndexes"].as_sequence().unwrap();
    assert_eq!(indexes.len(), SCHEMA.global_indexes.len());
    for (index, (name, pk, sk)) in indexes.iter().zip(SCHEMA.global_indexes) {
        assert_eq!(index["IndexName"], name);
        assert_eq!(
            key_schema(&index["KeySchema"]),
            [
                (pk.to_owned(), "HASH".to_owned()),
                (sk.to_owned(), "RANGE".to_owned())
            ]
        );
        assert_eq!(index["Projection"]["ProjectionType"], "ALL");
    }
    let mut defined: Vec<String> = table["AttributeDefinitions"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|d| {
            assert_eq!(d["AttributeType"], "S");
            d["AttributeName"].as_str().unwrap().to_owned()
        })
        .collect();
    defined.sort();
    let mut expected = vec![SCHEMA.partition_key.to_owned(), SCHEMA.sort_key.to_owned()];
    for (_, pk, sk) in SCHEMA.global_indexes {
        expected.push(pk.to_owned());
        expected.push(sk.to_owned());
    }
    expected.sort();
    assert_eq!(defined, expected);
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        table["TimeToLiveSpecification"]["AttributeName"],
        SCHEMA.ttl_attribute
    );
    assert_eq!(table["TimeToLiveSpecification"]["Enabled"], true);
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
}

#[test]
fn every_function_gets_the_table_name_and_table_permissions() {
    let template = read_yaml("template.yaml");
    let env = &template["Globals"]["Function"]["Environment"]["Variables"];
    assert_eq!(untag(&env["TABLE_NAME"]).as_str(), Some("Table"));
    for (name, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let statements = resource["Properties"]["Policies"][0]["Statement"]
            .as_sequence()
            .unwrap();
        let is_table = |r: &Value| untag(r).as_str() == Some("Table.Arn");
        let on_table = statements.iter().any(|s| match &s["Resource"] {
            Value::Sequence(resources) => resources.iter().any(is_table),
            single => is_table(single),
        });
        assert!(on_table, "{name:?} has no permissions on the table");
    }
}

/// Every HTTP function counts rate limits in the table (failed authentications on
/// all of them, requests per key wherever a key is accepted), so each may update
/// items; the read-only ones only the counters (`RATE#…`).
#[test]
fn every_api_function_may_count_rate_limits() {
    let template = read_yaml("template.yaml");
    for (name, resource) in template["Resources"].as_mapping().unwrap() {
        let Some(binary) = resource["Metadata"]["BuildProperties"]["Binary"].as_str() else {
            continue;
        };
        if !partnerctl::FUNCTIONS.iter().any(|f| f.name == binary) {
            continue;
        }
        let statements = resource["Properties"]["Policies"][0]["Statement"]
            .as_sequence()
            .unwrap();
        let updates = |statement: &&Value| match &statement["Action"] {
            Value::Sequence(actions) => actions
                .iter()
                .any(|a| a.as_str() == Some("dynamodb:UpdateItem")),
            single => single.as_str() == Some("dynamodb:UpdateItem"),
        };
        let Some(statement) = statements.iter().find(updates) else {
            panic!("{name:?} cannot update the rate-limit counters");
        };
        let leading = &statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"];
        if !leading.is_null() {
            assert_eq!(leading[0].as_str(), Some("RATE#*"), "{name:?}");
        }
    }
}

/// The webhook dispatcher runs once per lane: the main lane on the queue the
/// event rule feeds, the slow lane on a queue of its own; both may send to both,
/// and each knows the slow lane's queue (a retry always goes there).
#[test]
fn the_dispatcher_runs_on_both_lanes() {
    let template = read_yaml("template.yaml");
    let mut sources = BTreeSet::new();
    for (_, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Metadata"]["BuildProperties"]["Binary"] != "webhook-dispatcher" {
            continue;
        }
        let properties = &resource["Properties"];
        let env = &properties["Environment"]["Variables"];
        assert_eq!(
            untag(&env["WEBHOOK_SLOW_QUEUE_URL"]).as_str(),
            Some("WebhookSlowQueue")
        );
        let sends: BTreeSet<_> = properties["Policies"][0]["Statement"]
            .as_sequence()
            .unwrap()
            .iter()
            .filter(|s| s["Action"][0] == "sqs:SendMessage")
            .flat_map(|s| s["Resource"].as_sequence().unwrap().iter())
            .filter_map(|r| untag(r).as_str().map(str::to_owned))
            .collect();
        assert!(
            sends.contains("WebhookQueue.Arn") && sends.contains("WebhookSlowQueue.Arn"),
            "{sends:?}"
        );
        for (_, event) in properties["Events"].as_mapping().unwrap() {
            assert_eq!(event["Type"], "SQS");
            sources.insert(
                untag(&event["Properties"]["Queue"])
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
    }
    assert_eq!(
        sources,
        BTreeSet::from([
            "WebhookQueue.Arn".to_owned(),
            "WebhookSlowQueue.Arn".to_owned()
        ])
    );
}

/// One function's router as its Lambda serves it, on an empty embedded store.
fn served(function: &partnerctl::HttpFunction) -> axum::Router {
    let state = AppState::new(
        partner_store::testing::memory(),
        partner_tests::test_config(),
        None,
    )
    .unwrap();
    partner_service::http::finish((function.router)(), state)
}

#[tokio::test]
async fn every_declared_route_is_served_by_its_function() {
    for function in partnerctl::FUNCTIONS {
        let router = served(function);
        for route in function.every_route() {
            let path = route.path.replace("{id}", "cust_1");
            let request = axum::http::Request::builder()
                .method(route.method.as_method())
                .uri(&path)
                .body(axum::body::Body::empty())
                .unwrap();
            let response = router.clone().oneshot(request).await.unwrap();
            let body = axum::body::to_bytes(response.into_body(), 1 << 16)
                .await
                .unwrap();
            let text = String::from_utf8_lossy(&body);
            assert!(
                !text.contains("route_not_found") && !text.contains("method_not_allowed"),
                "{}: {} {path} is not served: {text}",
                function.name,
                route.method.as_method()
            );
        }
    }
}

/// The other direction: a function serves nothing it does not declare. On every
/// declared path, each method not declared for it is refused with 405 (a router
/// cannot list its routes, but every path it serves is one of these).
#[tokio::test]
async fn a_function_serves_no_method_it_does_not_declare() {
    use axum::http::Method;
    let methods = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
    ];
    for function in partnerctl::FUNCTIONS {
        let router = served(function);
        let paths: BTreeSet<&str> = function.every_route().map(|r| r.path).collect();
        for path in paths {
            let declared: Vec<Method> = function
                .every_route()
                .filter(|r| r.path == path)
                .map(|r| r.method.as_method())
                .collect();
            for method in methods.iter().filter(|m| !declared.contains(m)) {
                let request = axum::http::Request::builder()
                    .method(method.clone())
                    .uri(path.replace("{id}", "cust_1"))
                    .body(axum::body::Body::empty())
                    .unwrap();
                let response = router.clone().oneshot(request).await.unwrap();
                assert_eq!(
                    response.status(),
                    axum::http::StatusCode::METHOD_NOT_ALLOWED,
                    "{}: {method} {path} is served but not declared",
                    function.name
                );
            }
        }
    }
}

/// (METHOD, path, function) of every HttpApi route in template.yaml.
fn template_routes() -> BTreeSet<(String, String, String)> {
    let template = read_yaml("template.yaml");
    let mut routes = BTreeSet::new();
    for (_, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap()
            .to_owned();
        for (_, event) in resource["Properties"]["Events"]
            .as_mapping()
            .into_iter()
            .flatten()
        {
            if event["Type"] == "HttpApi" {
                let props = &event["Properties"];
                routes.insert((
                    props["Method"].as_str().unwrap().to_uppercase(),
                    props["Path"].as_str().unwrap().to_owned(),
                    binary.clone(),
                ));
            }
        }
    }
    routes
}

#[test]
fn the_cargo_lambda_watch_router_matches_the_template() {
    let manifest: toml::Table = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml"),
    )
    .unwrap()
    .parse()
    .unwrap();
    let router = manifest["workspace"]["metadata"]["lambda"]["watch"]["router"]
        .as_table()
        .unwrap();
    let mut routes = BTreeSet::new();
    for (path, targets) in router {
        for target in targets.as_array().unwrap() {
            routes.insert((
                target["method"].as_str().unwrap().to_owned(),
                path.clone(),
                target["function"].as_str().unwrap().to_owned(),
            ));
        }
    }
    assert_eq!(routes, template_routes());
}
