//! The fault proxy as a process, for `make stress`: it stands in front of moto and
//! refuses a share of the calls, so a `partnerctl serve` pointed at it (through
//! `AWS_ENDPOINT_URL`) meets DynamoDB's throttling and 500s.
//!
//! `fault-proxy <moto URL> <percent refused> [<X-Amz-Target prefix>]`; prints its
//! own URL on the first line of stdout, then serves until it is killed, writing
//! `refused N forwarded M` to stderr every second.

use partner_tests::faults::FaultProxy;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(target), Some(percent)) = (args.first(), args.get(1)) else {
        eprintln!("usage: fault-proxy <moto URL> <percent refused> [<X-Amz-Target prefix>]");
        std::process::exit(2);
    };
    let Ok(percent) = percent.parse::<u8>() else {
        eprintln!("the share refused is a whole percentage, 0 to 100: {percent}");
        std::process::exit(2);
    };
    let proxy = FaultProxy::start(target).await;
    if let Some(prefix) = args.get(2) {
        // The proxy keeps the prefix for its whole life, which is the process's.
        proxy.only(Box::leak(prefix.clone().into_boxed_str()));
    }
    proxy.refuse(percent.min(100));
    println!("{}", proxy.endpoint);
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let (refused, forwarded) = proxy.counts();
        eprintln!("refused {refused} forwarded {forwarded}");
    }
}
