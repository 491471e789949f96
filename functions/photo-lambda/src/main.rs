//! Lambda bootstrap: builds the runner once per instance, then handles SQS
//! batches until the instance is retired.

use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    // Before the stores open: their metrics' handles belong to the recorder
    // installed when they are first used.
    let metrics = millions_infra::aws::emf::install("photos");
    let runner = photo_lambda::runner_from_env().await?;
    let runner = &runner;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<aws_lambda_events::event::sqs::SqsEvent>| async move {
            let answer = photo_lambda::handle(runner, event.payload).await;
            // Before the answer returns, and the instance may be frozen.
            if let Some(collector) = metrics {
                millions_infra::aws::emf::flush(collector, std::io::stdout());
            }
            Ok::<_, lambda_runtime::Error>(answer)
        },
    ))
    .await
}
