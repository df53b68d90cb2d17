//! The cold-start harness measures what it says: the baseline binary, started against
//! the local Runtime API, asks for work, answers the event it was handed, and asks
//! again, in that order and with its process's memory read.

use axum::body::Bytes;
use partner_bench::cold::{Target, run_once};

#[tokio::test]
async fn a_lambda_process_is_timed_from_start_to_init_to_its_first_answer() {
    let target = Target {
        name: "hello-lambda".to_owned(),
        binary: env!("CARGO_BIN_EXE_hello-lambda").into(),
        event: Bytes::from_static(br#"{"hello": "world"}"#),
        env: Vec::new(),
    };
    let log = std::fs::File::create(std::env::temp_dir().join("partner-bench-test.log"))
        .expect("log file");
    let run = run_once(&target, &log).await.expect("one cold start");
    assert!(run.init > std::time::Duration::ZERO);
    assert!(run.first_response > run.init, "{run:?}");
    assert_eq!(
        run.answer, "200",
        "the answer the function posted is read back"
    );
    assert!(run.peak_rss_kib > 0, "peak memory is read from /proc");
}

#[tokio::test]
async fn a_binary_that_never_starts_is_an_error_not_a_figure() {
    let target = Target {
        name: "missing".to_owned(),
        binary: "/nonexistent/bootstrap".into(),
        event: Bytes::from_static(b"{}"),
        env: Vec::new(),
    };
    let log = std::fs::File::create(std::env::temp_dir().join("partner-bench-test-missing.log"))
        .expect("log file");
    assert!(run_once(&target, &log).await.is_err());
}
