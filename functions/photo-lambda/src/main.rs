//! Lambda bootstrap: builds the runner once per instance, then handles SQS
//! batches until the instance is retired.

use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let runner = photo_lambda::runner_from_env().await?;
    let runner = &runner;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<aws_lambda_events::event::sqs::SqsEvent>| async move {
            Ok::<_, lambda_runtime::Error>(photo_lambda::handle(runner, event.payload).await)
        },
    ))
    .await
}
