//! Lambda bootstrap: builds the router once per instance (clients and
//! connection pools are reused across invocations), then serves events.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    // JSON logs to CloudWatch, with the Lambda request id on every line.
    lambda_http::tracing::init_default_subscriber();
    // Before the stores open: their metrics' handles belong to the recorder
    // installed when they are first used.
    let collector = millions_infra::aws::emf::install("api");
    let app = api_lambda::app_from_env().await?;
    let app = match collector {
        Some(collector) => api_lambda::with_metrics(app, collector, || Box::new(std::io::stdout())),
        None => app,
    };
    lambda_http::run(app).await
}
