"""After `terraform apply` against moto (scripts/apply-emulator.sh): the
tables, queues, buckets and functions of both regions exist, with the keys,
TTL, redrive and settings the code relies on. Exits non-zero on the first
mismatch, saying what it found."""

import json
import sys

import boto3

REGIONS = ["us-east-1", "eu-west-1"]
TABLES = {
    "millions-users": ("user_id", None),
    "millions-logins": ("email", None),
    "millions-sessions": ("token_hash", "expires_at"),
    "millions-rate-limits": ("counter", "expires_at"),
    "millions-jobs": ("job_id", "expires_at"),
    "millions-likes": ("part", None),
    "millions-activity": ("day", "expires_at"),
}
# Tables with a sort key besides their partition key.
SORT_KEYS = {"millions-likes": "liker"}
checks = 0


def expect(condition, message):
    global checks
    checks += 1
    if not condition:
        print(f"smoke check failed: {message}", file=sys.stderr)
        sys.exit(1)


dynamodb = boto3.client("dynamodb", region_name=REGIONS[0])
for name, (key, ttl) in TABLES.items():
    table = dynamodb.describe_table(TableName=name)["Table"]
    schema = [{"AttributeName": key, "KeyType": "HASH"}]
    if name in SORT_KEYS:
        schema.append({"AttributeName": SORT_KEYS[name], "KeyType": "RANGE"})
    expect(table["KeySchema"] == schema, f"{name} is keyed by {schema}: {table['KeySchema']}")
    expect(table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST", f"{name} is on-demand")
    expect(table.get("StreamSpecification", {}).get("StreamEnabled"), f"{name} has a stream")
    described = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    if ttl:
        expect(described.get("AttributeName") == ttl and described["TimeToLiveStatus"] == "ENABLED", f"{name} expires by {ttl}: {described}")
    else:
        expect(described["TimeToLiveStatus"] == "DISABLED", f"{name} has no TTL: {described}")
    backups = dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    expect(backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED", f"{name} has point-in-time recovery")

for region in REGIONS:
    sqs = boto3.client("sqs", region_name=region)
    jobs = sqs.get_queue_url(QueueName="millions-photo-jobs")["QueueUrl"]
    dlq = sqs.get_queue_url(QueueName="millions-photo-jobs-dlq")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=jobs, AttributeNames=["All"])["Attributes"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.loads(attributes["RedrivePolicy"])
    expect(redrive["deadLetterTargetArn"] == dlq_arn and int(redrive["maxReceiveCount"]) == 3, f"{region} jobs queue redrives to its DLQ after 3: {redrive}")
    expect(int(attributes["VisibilityTimeout"]) == 360, f"{region} visibility timeout is 6 x 60 s: {attributes['VisibilityTimeout']}")
    expect(attributes.get("SqsManagedSseEnabled") == "true", f"{region} jobs queue is encrypted")

    s3 = boto3.client("s3", region_name=region)
    bucket = f"millions-photos-{region}"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    expect(all(block.values()) and len(block) == 4, f"{bucket} blocks public access: {block}")
    encryption = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    expect(encryption["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256", f"{bucket} is encrypted")

    lambdas = boto3.client("lambda", region_name=region)
    for function, timeout in [("millions-api", 10), ("millions-photos", 60)]:
        config = lambdas.get_function_configuration(FunctionName=function)
        expect(config["Runtime"] == "provided.al2023" and config["Timeout"] == timeout, f"{region} {function}: {config['Runtime']}, {config['Timeout']} s")
        env = config["Environment"]["Variables"]
        expect(env["JOBS_TABLE"] == "millions-jobs" and env["LIKES_TABLE"] == "millions-likes" and env["ACTIVITY_TABLE"] == "millions-activity" and env["PHOTOS_BUCKET"] == bucket and env["JOBS_QUEUE_URL"].endswith("/millions-photo-jobs"), f"{region} {function} environment: {env}")
    mappings = [
        mapping for mapping in lambdas.list_event_source_mappings()["EventSourceMappings"]
        if mapping["FunctionArn"].endswith(":millions-photos")
    ]
    expect(len(mappings) == 1 and mappings[0]["EventSourceArn"].endswith(":millions-photo-jobs"), f"{region} photo function is triggered by its queue: {mappings}")
    expect(mappings[0].get("FunctionResponseTypes") == ["ReportBatchItemFailures"], f"{region} trigger reports partial batch failures: {mappings[0]}")

    alarms = boto3.client("cloudwatch", region_name=region).describe_alarms(AlarmNamePrefix="millions-")["MetricAlarms"]
    dead = [alarm for alarm in alarms if alarm["AlarmName"] == f"millions-dead-letters-{region}"]
    # Seven of the functions and the queue, and three (throttled reads and
    # writes, system errors) per table.
    expected = 7 + 3 * len(TABLES)
    expect(len(alarms) == expected and len(dead) == 1 and dead[0]["Dimensions"] == [{"Name": "QueueName", "Value": "millions-photo-jobs-dlq"}],
           f"{region} has its {expected} alarms, one on the dead-letter queue: {[alarm['AlarmName'] for alarm in alarms]}")
    dashboard = boto3.client("cloudwatch", region_name=region).get_dashboard(DashboardName=f"millions-{region}")
    widgets = json.loads(dashboard["DashboardBody"])["widgets"]
    expect(len(widgets) == 7, f"{region}'s dashboard has its seven widgets: {len(widgets)}")

route53 = boto3.client("route53")
checks_found = route53.list_health_checks()["HealthChecks"]
expect(len(checks_found) == 2 and all(check["HealthCheckConfig"]["ResourcePath"] == "/health" for check in checks_found), f"two health checks on /health: {checks_found}")

print(f"smoke check: {checks} checks passed on both regions", file=sys.stderr)
