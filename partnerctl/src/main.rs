//! `partnerctl`: the ops and development CLI.
//!
//! Works on the embedded store in a data directory (default `.partner/`) or, with
//! `--table` / `TABLE_NAME`, on DynamoDB (AWS settings from the environment,
//! `AWS_ENDPOINT_URL` for moto). `--json` makes every command print one JSON value.

mod admin_secret;
mod ops;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use partner_domain::api_key::KeyKind;
use partner_domain::{ApiKeyId, AppId};
use partner_service::config::{AdminJwtConfig, StoreConfig};
use partner_store::Store;
use partner_store::repo::apps::Revoked;
use serde_json::json;

#[derive(Debug, Parser)]
#[command(
    name = "partnerctl",
    version,
    about = "Run and operate the partner program backend"
)]
struct Cli {
    #[command(flatten)]
    target: Target,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

/// Which store to work on.
#[derive(Debug, Args)]
struct Target {
    /// Data directory of the embedded store.
    #[arg(long, global = true, env = "PARTNER_DATA_DIR", default_value = partner_service::config::DEFAULT_DATA_DIR)]
    data: PathBuf,
    /// Work on this DynamoDB table instead of the embedded store.
    #[arg(long, global = true, env = "TABLE_NAME", conflicts_with = "memory")]
    table: Option<String>,
    /// Keep everything in memory (serve only; gone when the server stops).
    #[arg(long, global = true)]
    memory: bool,
}

impl Target {
    fn store_config(&self) -> StoreConfig {
        match (&self.table, self.memory) {
            (Some(table), _) => StoreConfig::DynamoDb {
                table: table.clone(),
            },
            (None, true) => StoreConfig::Memory,
            (None, false) => StoreConfig::Sqlite {
                path: self.data.join(partner_service::config::STORE_FILE),
            },
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve every endpoint group on one local HTTP server, with API Gateway's paths.
    Serve {
        #[arg(long, default_value = "127.0.0.1:3000")]
        addr: std::net::SocketAddr,
    },
    /// Create and list apps (tenants).
    #[command(subcommand)]
    Apps(AppsCommand),
    /// Create, list and revoke API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Mint tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Create the DynamoDB table (for moto or a first deployment without SAM).
    #[command(subcommand)]
    Table(TableCommand),
    /// List, approve and reject applications (as the admin API does).
    #[command(subcommand)]
    Applications(ops::ApplicationsCommand),
    /// List partners.
    #[command(subcommand)]
    Partners(ops::PartnersCommand),
    /// Run payouts.
    #[command(subcommand)]
    Payouts(ops::PayoutsCommand),
    /// Print a login link to the admin console: it opens one session, once, and
    /// expires after `--ttl`.
    Console {
        #[arg(long)]
        app: String,
        /// How long the link stays valid: `10m`, `90s`, `1h` (at most an hour).
        #[arg(long, default_value = "10m", value_parser = parse_ttl)]
        ttl: Duration,
        /// The deployment's public address (default: `PUBLIC_BASE_URL`, else the
        /// local server's).
        #[arg(long, env = "PUBLIC_BASE_URL", default_value = "http://127.0.0.1:3000")]
        url: String,
    },
}

/// The longest a console login link may live: it is a bearer secret in a URL.
const MAX_LOGIN_TTL: Duration = Duration::from_secs(3600);

/// `10m`, `90s`, `1h` or plain seconds, from a second up to an hour.
fn parse_ttl(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let (number, unit) = match raw.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => raw.split_at(at),
        None => (raw, "s"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{raw} is not a duration such as 10m"))?;
    let seconds = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("{raw}: use s, m or h")),
    };
    let ttl = Duration::from_secs(seconds);
    if ttl.is_zero() || ttl > MAX_LOGIN_TTL {
        return Err("a login link lives from 1s to 1h".into());
    }
    Ok(ttl)
}

#[derive(Debug, Subcommand)]
enum AppsCommand {
    /// Create an app with default program settings and its first API key.
    Create {
        #[arg(long)]
        name: String,
    },
    List,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Create another API key for an app (a secret key unless --publishable); the
    /// key is shown only now.
    Create {
        #[arg(long)]
        app: String,
        #[arg(long)]
        label: Option<String>,
        /// A publishable key (web pages: apply and track only).
        #[arg(long)]
        publishable: bool,
    },
    List {
        #[arg(long)]
        app: String,
    },
    /// Revoke a key by its id (`key_…`). Warm functions may accept it for up to
    /// `API_KEY_CACHE_SECONDS` more.
    Revoke {
        #[arg(long)]
        app: String,
        #[arg(long)]
        key: String,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// An admin JWT for an app, signed with `ADMIN_JWT_SECRET` (or the data
    /// directory's generated secret).
    Admin {
        #[arg(long)]
        app: String,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 3600)]
        ttl: u64,
    },
}

#[derive(Debug, Subcommand)]
enum TableCommand {
    /// Create the table if it does not exist.
    Create,
}

#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Store(#[from] partner_store::StoreError),
    #[error(transparent)]
    Token(#[from] partner_service::admin_auth::TokenError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // The functions' log lines, on stderr (stdout is the commands' output); `serve`
    // shows the one line per request a Lambda writes, other commands only warnings.
    let default = if matches!(cli.command, Command::Serve { .. }) {
        "info"
    } else {
        "warn"
    };
    let directives = std::env::var("RUST_LOG").unwrap_or_else(|_| default.to_owned());
    let _ = tracing::subscriber::set_global_default(partner_service::logging::subscriber(
        &directives,
        partner_service::logging::json_format(),
        std::io::stderr,
    ));
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!(
                "partnerctl: {}",
                partner_service::problem::cause_chain(&err)
            );
            ExitCode::FAILURE
        }
    }
}

fn parse_app(raw: &str) -> Result<AppId, CliError> {
    AppId::parse("app", raw).map_err(|e| CliError::Usage(e.to_string()))
}

/// Prints `value` as JSON, or `text` for people.
fn print(json_output: bool, value: serde_json::Value, text: String) {
    if json_output {
        println!("{value}");
    } else {
        println!("{text}");
    }
}

async fn run(cli: Cli) -> Result<(), CliError> {
    let store_config = cli.target.store_config();
    let json_output = cli.json;
    match cli.command {
        Command::Serve { addr } => serve::run(&cli.target, store_config, addr).await,
        Command::Apps(command) => {
            let store = open(&store_config).await?;
            match command {
                AppsCommand::Create { name } => {
                    let name = partner_domain::text::required_text("name", &name, 200)
                        .map_err(|e| CliError::Usage(e.to_string()))?;
                    let created = store.apps().create(&name).await?;
                    print(
                        json_output,
                        json!({
                            "appId": created.app.id,
                            "name": created.app.name,
                            "apiKey": created.api_key.secret(),
                            "keyId": created.key.id,
                            "publishableKey": created.publishable_key.secret(),
                            "publishableKeyId": created.publishable.id,
                        }),
                        format!(
                            "app:             {}\nsecret key:      {}  (your server only; shown only now)\npublishable key: {}  (web pages: apply, track)",
                            created.app.id,
                            created.api_key.secret(),
                            created.publishable_key.secret()
                        ),
                    );
                }
                AppsCommand::List => {
                    let apps = store.apps().list().await?;
                    let text = apps
                        .iter()
                        .map(|a| format!("{}  {}", a.id, a.name))
                        .collect::<Vec<_>>()
                        .join("\n");
                    print(json_output, json!(apps), text);
                }
            }
            Ok(())
        }
        Command::Keys(command) => {
            let store = open(&store_config).await?;
            match command {
                KeysCommand::Create {
                    app,
                    label,
                    publishable,
                } => {
                    let app = parse_app(&app)?;
                    let kind = if publishable {
                        KeyKind::Publishable
                    } else {
                        KeyKind::Secret
                    };
                    let Some((record, secret)) = store
                        .apps()
                        .create_api_key(&app, kind, label.as_deref(), &ops::operator())
                        .await?
                    else {
                        return Err(CliError::Usage(format!("no app {app}")));
                    };
                    print(
                        json_output,
                        json!({"appId": app, "keyId": record.id, "kind": kind, "apiKey": secret.secret()}),
                        format!(
                            "key:     {} ({})\napi key: {}  (shown only now)",
                            record.id,
                            kind.as_str(),
                            secret.secret()
                        ),
                    );
                }
                KeysCommand::List { app } => {
                    let keys = store.apps().list_api_keys(&parse_app(&app)?).await?;
                    let text = keys
                        .iter()
                        .map(|k| {
                            let state = if k.revoked_at.is_some() {
                                "revoked"
                            } else {
                                "active"
                            };
                            format!(
                                "{}  {:<11}  {}…  {}  {}",
                                k.id,
                                k.kind.as_str(),
                                k.display_prefix,
                                state,
                                k.label.as_deref().unwrap_or("")
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("\n");
                    print(json_output, json!(keys), text);
                }
                KeysCommand::Revoke { app, key } => {
                    let app = parse_app(&app)?;
                    let key =
                        ApiKeyId::parse("key", &key).map_err(|e| CliError::Usage(e.to_string()))?;
                    match store
                        .apps()
                        .revoke_api_key(&app, &key, &ops::operator())
                        .await?
                    {
                        Revoked::Revoked => print(
                            json_output,
                            json!({"keyId": key, "revoked": true}),
                            format!("revoked {key}"),
                        ),
                        Revoked::NotFound => {
                            return Err(CliError::Usage(format!("app {app} has no key {key}")));
                        }
                    }
                }
            }
            Ok(())
        }
        Command::Token(TokenCommand::Admin { app, ttl }) => {
            let app = parse_app(&app)?;
            let config = admin_jwt_config(&cli.target)?;
            let token = partner_service::admin_auth::mint(
                &config,
                ops::OPERATOR,
                &[app],
                Duration::from_secs(ttl),
            )?;
            print(json_output, json!({"token": token}), token.clone());
            Ok(())
        }
        Command::Console { app, ttl, url } => {
            let app = parse_app(&app)?;
            let config = admin_jwt_config(&cli.target)?;
            let token = partner_service::admin_auth::mint_console_login(
                &config,
                ops::OPERATOR,
                &[app],
                ttl,
            )?;
            let link = format!(
                "{}{}?token={token}",
                url.trim_end_matches('/'),
                admin::console::LOGIN
            );
            print(
                json_output,
                json!({"url": link, "expiresInSeconds": ttl.as_secs()}),
                format!(
                    "{link}\n(opens one console session; expires in {} s)",
                    ttl.as_secs()
                ),
            );
            Ok(())
        }
        Command::Applications(command) => {
            ops::applications(command, &store_config, json_output).await
        }
        Command::Partners(command) => ops::partners(command, &store_config, json_output).await,
        Command::Payouts(command) => ops::payouts(command, &store_config, json_output).await,
        Command::Table(TableCommand::Create) => {
            let StoreConfig::DynamoDb { table } = store_config else {
                return Err(CliError::Usage(
                    "table create works on DynamoDB: pass --table or set TABLE_NAME (the embedded store creates itself)".into(),
                ));
            };
            let client = dynamodb_client().await;
            partner_store::dynamo::create_table(&client, &table).await?;
            print(
                json_output,
                json!({"table": table, "created": true}),
                format!("table {table} is ready"),
            );
            Ok(())
        }
    }
}

async fn open(config: &StoreConfig) -> Result<Store, CliError> {
    if *config == StoreConfig::Memory {
        return Err(CliError::Usage(
            "--memory only makes sense with serve".into(),
        ));
    }
    Ok(open_store(config).await?)
}

/// The store `config` names. DynamoDB goes through aws-config's whole credential
/// chain (profiles, SSO, …), as an operator's machine needs; the Lambdas read only
/// the variables Lambda sets (`partner_service::aws`).
pub(crate) async fn open_store(config: &StoreConfig) -> Result<Store, partner_store::StoreError> {
    match config {
        StoreConfig::DynamoDb { table } => {
            Ok(Store::dynamodb(dynamodb_client().await, table.clone()))
        }
        StoreConfig::Sqlite { path } => Store::sqlite(path),
        StoreConfig::Memory => Store::memory(),
    }
}

async fn dynamodb_client() -> partner_store::dynamo::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(partner_aws::http::client())
        .timeout_config(partner_aws::http::timeouts())
        .retry_config(partner_aws::http::retries())
        .load()
        .await;
    partner_store::dynamo::Client::new(&config)
}

/// The admin JWT settings, with the secret from `ADMIN_JWT_SECRET` or, for the
/// embedded store, the data directory's generated secret.
fn admin_jwt_config(target: &Target) -> Result<AdminJwtConfig, CliError> {
    let mut config = AdminJwtConfig::from_env();
    if config.secret.is_none() {
        if target.table.is_some() {
            return Err(CliError::Usage(
                "set ADMIN_JWT_SECRET to the deployment's admin JWT secret".into(),
            ));
        }
        config.secret = Some(admin_secret::load_or_create(&target.data)?);
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_link_lifetimes_read_as_people_write_them_and_stay_short() {
        assert_eq!(parse_ttl("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_ttl("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_ttl("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_ttl("120"), Ok(Duration::from_secs(120)));
        assert!(parse_ttl("2h").is_err());
        assert!(parse_ttl("0m").is_err());
        assert!(parse_ttl("10d").is_err());
        assert!(parse_ttl("soon").is_err());
    }
}
