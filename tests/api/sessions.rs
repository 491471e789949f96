//! Sign-up, login, logout and sessions over HTTP, through the front door:
//! cookies for browsers, bearer tokens for other clients, owner-only writes,
//! cross-site request refusal, expiry and login rate limits.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{data_dir, expect_problem, john, signup_body, TestStack, PASSWORD};

fn session_cookie(response: &reqwest::Response) -> String {
    let set_cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    let pair = set_cookie.split(';').next().unwrap();
    assert!(pair.starts_with("__Host-session="), "{set_cookie}");
    pair.to_owned()
}

async fn login(stack: &TestStack, email: &str, password: &str) -> reqwest::Response {
    stack
        .client
        .post(stack.url("/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

async fn whoami(stack: &TestStack, header: (&str, &str)) -> reqwest::Response {
    stack
        .client
        .get(stack.url("/auth/session"))
        .header(header.0, header.1)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_browser_signs_up_uses_its_cookie_and_logs_out() {
    let dir = data_dir();
    let stack = TestStack::start(dir.path());
    let response = stack.signup(&signup_body(&john())).await;
    assert_eq!(response.status(), 201);
    let set_cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(
            set_cookie.contains(attribute),
            "{set_cookie} lacks {attribute}"
        );
    }
    assert_eq!(response.headers()["cache-control"], "no-store");
    let cookie = session_cookie(&response);
    let answer: Value = response.json().await.unwrap();
    let id = answer["user"]["id"].as_u64().unwrap();
    assert!(
        answer["user"].get("email").is_none(),
        "the profile does not show the email"
    );

    let response = whoami(&stack, ("cookie", &cookie)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["x-cache"],
        "BYPASS",
        "sessions are never cached"
    );
    assert_eq!(response.json::<Value>().await.unwrap()["userId"], id);

    // The owner edits its profile with the cookie alone.
    let response = stack
        .client
        .patch(stack.url(&format!("/users/{id}")))
        .header("cookie", &cookie)
        .json(&json!({"address": {"city": "Boston"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let response = stack
        .client
        .post(stack.url("/auth/logout"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert!(response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let response = whoami(&stack, ("cookie", &cookie)).await;
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer realm="millions""#
    );
    expect_problem(response, 401).await;
}

#[tokio::test]
async fn a_mobile_client_logs_in_with_a_bearer_token() {
    let dir = data_dir();
    let stack = TestStack::start(dir.path());
    let body = signup_body(&john());
    stack.signup(&body).await;
    let email = body["email"].as_str().unwrap();
    // The email is matched whatever its case.
    let response = login(&stack, &email.to_uppercase(), PASSWORD).await;
    assert_eq!(response.status(), 200);
    let session: Value = response.json().await.unwrap();
    let token = session["token"].as_str().unwrap();
    assert_eq!(token.len(), 43);
    assert!(session["expiresAt"].as_u64().unwrap() > 1_700_000_000);
    let response = whoami(&stack, ("authorization", &format!("Bearer {token}"))).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap()["userId"],
        session["userId"]
    );
    for wrong in ["Bearer not-a-token", "Basic dXNlcjpwYXNz"] {
        expect_problem(whoami(&stack, ("authorization", wrong)).await, 401).await;
    }
}

#[tokio::test]
async fn a_second_account_with_the_same_email_is_refused() {
    let dir = data_dir();
    let stack = TestStack::start(dir.path());
    let body = signup_body(&john());
    assert_eq!(stack.signup(&body).await.status(), 201);
    let mut again = body.clone();
    again["email"] = json!(body["email"].as_str().unwrap().to_uppercase());
    again["firstName"] = json!("Impostor");
    let problem = expect_problem(stack.signup(&again).await, 409).await;
    assert!(problem["detail"].as_str().unwrap().contains("exists"));
}

#[tokio::test]
async fn wrong_password_and_unknown_email_are_indistinguishable() {
    let dir = data_dir();
    let stack = TestStack::start(dir.path());
    let body = signup_body(&john());
    stack.signup(&body).await;
    let wrong = expect_problem(
        login(
            &stack,
            body["email"].as_str().unwrap(),
            "wrong password here",
        )
        .await,
        401,
    )
    .await;
    let unknown = expect_problem(login(&stack, "nobody@example.com", PASSWORD).await, 401).await;
    assert_eq!(wrong, unknown);
}

#[tokio::test]
async fn only_the_owner_may_change_a_user() {
    let dir = data_dir();
    let stack = TestStack::start(dir.path());
    let (victim, _) = stack.create_john().await;
    let victim_url = stack.url(&format!("/users/{victim}"));
    stack.create_user(&john()).await;
    let intruder = stack.as_owner();

    let response = intruder
        .patch(&victim_url)
        .json(&json!({"firstName": "Pwned"}))
        .send()
        .await
        .unwrap();
    expect_problem(response, 403).await;
    let response = intruder
        .put(&victim_url)
        .json(&john())
        .send()
        .await
        .unwrap();
    expect_problem(response, 403).await;
    let response = intruder.delete(&victim_url).send().await.unwrap();
    expect_problem(response, 403).await;
    // Without a session: 401, with the scheme to use.
    let response = stack
        .client
        .patch(&victim_url)
        .json(&json!({"firstName": "Pwned"}))
        .send()
        .await
        .unwrap();
    expect_problem(response, 401).await;
    // Public profile reads stay open, and nothing changed.
    let user: Value = stack
        .client
        .get(&victim_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(user["firstName"], "John");
}

#[tokio::test]
async fn cross_site_writes_with_the_cookie_are_refused() {
    let dir = data_dir();
    let stack = TestStack::start(dir.path());
    let response = stack.signup(&signup_body(&john())).await;
    let cookie = session_cookie(&response);
    let id = response.json::<Value>().await.unwrap()["user"]["id"]
        .as_u64()
        .unwrap();
    let url = stack.url(&format!("/users/{id}"));
    let patch = |headers: Vec<(&'static str, String)>| {
        let mut request = stack
            .client
            .patch(&url)
            .header("cookie", &cookie)
            .json(&json!({"lastName": "Forged"}));
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.send()
    };
    let forged = [
        vec![("origin", "https://evil.example".to_owned())],
        vec![
            ("sec-fetch-site", "cross-site".to_owned()),
            ("origin", "https://evil.example".to_owned()),
        ],
        vec![("origin", "null".to_owned())],
    ];
    for headers in forged {
        let response = patch(headers.clone()).await.unwrap();
        let problem = expect_problem(response, 403).await;
        assert!(
            problem["detail"].as_str().unwrap().contains("cross-site"),
            "{headers:?}"
        );
    }
    // A login form posted from another site is refused too (login CSRF).
    let response = stack
        .client
        .post(stack.url("/auth/login"))
        .header("origin", "https://evil.example")
        .json(&json!({"email": "a@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    expect_problem(response, 403).await;
    let read = || async {
        let response = stack
            .client
            .get(&url)
            .header("cache-control", "no-cache")
            .send()
            .await
            .unwrap();
        response.json::<Value>().await.unwrap()["lastName"].clone()
    };
    assert_eq!(read().await, "Smith", "no forged write went through");
    // The site's own pages may write.
    let response = patch(vec![("origin", stack.address.clone())])
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = patch(vec![("sec-fetch-site", "same-origin".to_owned())])
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(read().await, "Forged");
}

#[tokio::test]
async fn an_idle_session_expires() {
    let dir = data_dir();
    let stack = TestStack::start_with(
        &[
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--session-idle-secs",
            "2",
        ],
        &[],
    );
    let (id, _) = stack.create_john().await;
    let owner = stack.as_owner();
    let url = stack.url(&format!("/users/{id}"));
    assert_eq!(
        owner
            .get(&stack.url("/auth/session"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let problem = expect_problem(
        owner.get(&stack.url("/auth/session")).send().await.unwrap(),
        401,
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("expired"));
    let response = owner
        .patch(&url)
        .json(&json!({"firstName": "Late"}))
        .send()
        .await
        .unwrap();
    expect_problem(response, 401).await;
}

#[tokio::test]
async fn repeated_failed_logins_are_answered_429_with_retry_after() {
    let dir = data_dir();
    let stack = TestStack::start_with(
        &[
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--login-attempts-per-account",
            "3",
        ],
        &[],
    );
    let body = signup_body(&john());
    stack.signup(&body).await;
    let email = body["email"].as_str().unwrap();
    for _ in 0..3 {
        expect_problem(login(&stack, email, "a wrong guess").await, 401).await;
    }
    let response = login(&stack, email, PASSWORD).await;
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    expect_problem(response, 429).await;
    // Another account from the same address is not locked.
    let other = signup_body(&john());
    stack.signup(&other).await;
    assert_eq!(
        login(&stack, other["email"].as_str().unwrap(), PASSWORD)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn the_data_folder_holds_no_usable_token() {
    let dir = data_dir();
    let stack = TestStack::start(dir.path());
    let response = stack.signup(&signup_body(&john())).await;
    let token = response.json::<Value>().await.unwrap()["session"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = stack.terminate();
    assert!(status.success());
    let db = millions_infra::local::EmbeddedDatabase::open(dir.path()).unwrap();
    let sessions = millions_infra::local::EmbeddedSessions::new(db).unwrap();
    let records = sessions.raw_records().unwrap();
    assert_eq!(records.len(), 1);
    let (key, value) = &records[0];
    let expected = millions_core::auth::SessionToken::parse(&token)
        .unwrap()
        .hash();
    assert_eq!(
        key,
        expected.as_str(),
        "sessions are keyed by the token's hash"
    );
    assert!(!String::from_utf8_lossy(value).contains(&token));
    let store_files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "redb"))
        .collect();
    assert!(store_files.len() > 1, "the main file and the shards'");
    for path in store_files {
        let file = std::fs::read(&path).unwrap();
        assert!(
            !file
                .windows(token.len())
                .any(|window| window == token.as_bytes()),
            "the token is nowhere in {}",
            path.display()
        );
    }
}
