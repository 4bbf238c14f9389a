//! egov-citizens: the state databases of individuals and legal entities (ЖТ МДБ / ГБД ФЛ,
//! ЗТ МДБ / ГБД ЮЛ) as a process. `egov up` runs it as `egov-citizens --grpc-listen
//! 127.0.0.1:7120 --http-listen 127.0.0.1:7121 --data-dir <dir>`; `--dump-config` prints the
//! merged config; `egov-citizens generate --population 1000000 --database-url sqlite://…`
//! (re)generates a population and prints how long the load and the look-ups took.

use clap::Parser;

mod cli;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    cli::run(cli::Args::parse()).await
}
