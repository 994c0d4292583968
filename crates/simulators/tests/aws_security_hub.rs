//! The AWS Security Hub simulator over real HTTP: Signature Version 4 checked as AWS checks
//! it, IAM and the hub's state, `GetFindings` filters, sorting, paging and limits,
//! `ListMembers` and the aggregator, throttling, the control API and the Records' life.

use chrono::{DateTime, TimeDelta, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use simulators::Fault;
use simulators::scanners::ScannerSim;
use simulators::scanners::aws_security_hub::{
    ACCESS_KEY_ID, ACCOUNT, AwsSecurityHubSim, HOME_REGION, LIMITED_ACCESS_KEY_ID,
    LIMITED_SECRET_ACCESS_KEY, LINKED_REGION, SECRET_ACCESS_KEY, sign_request,
};

async fn seeded() -> AwsSecurityHubSim {
    AwsSecurityHubSim::start_seeded("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
    /// `(status, x-amzn-ErrorType without AWS's suffix)`.
    fn error(&self) -> (u16, String) {
        (
            self.status.as_u16(),
            self.header("x-amzn-ErrorType")
                .split(':')
                .next()
                .unwrap_or("")
                .to_owned(),
        )
    }
}

#[derive(Clone, Copy)]
struct Signer<'a> {
    key: &'a str,
    secret: &'a str,
    region: &'a str,
    at: Option<DateTime<Utc>>,
}

const ADMIN: Signer<'static> = Signer {
    key: ACCESS_KEY_ID,
    secret: SECRET_ACCESS_KEY,
    region: HOME_REGION,
    at: None,
};

async fn send(
    sim: &AwsSecurityHubSim,
    method: Method,
    path: &str,
    body: Option<&Value>,
    signer: Option<Signer<'_>>,
) -> Answer {
    let url = url::Url::parse(&format!("{}{path}", sim.base_url())).unwrap();
    let bytes = body
        .map(|b| serde_json::to_vec(b).unwrap())
        .unwrap_or_default();
    let mut req = reqwest::Client::new().request(method.clone(), url.clone());
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    if let Some(s) = signer {
        let extra: Vec<(&str, &str)> = if body.is_some() {
            vec![("content-type", "application/json")]
        } else {
            vec![]
        };
        for (k, v) in sign_request(
            s.key,
            s.secret,
            s.region,
            method.as_str(),
            &url,
            &extra,
            &bytes,
            s.at.unwrap_or_else(Utc::now),
        ) {
            req = req.header(k, v);
        }
    }
    let r = req.body(bytes).send().await.unwrap();
    Answer {
        status: r.status(),
        headers: r.headers().clone(),
        text: r.text().await.unwrap(),
    }
}

async fn get(sim: &AwsSecurityHubSim, path: &str) -> Answer {
    send(sim, Method::GET, path, None, Some(ADMIN)).await
}

async fn findings(sim: &AwsSecurityHubSim, body: Value) -> Answer {
    send(sim, Method::POST, "/findings", Some(&body), Some(ADMIN)).await
}

fn eq(v: &str) -> Value {
    json!([{ "Value": v, "Comparison": "EQUALS" }])
}

#[tokio::test]
async fn signature_version_4_is_checked_as_aws_checks_it() {
    let sim = seeded().await;
    let a = get(&sim, "/accounts").await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        a.json()["HubArn"],
        format!("arn:aws:securityhub:{HOME_REGION}:{ACCOUNT}:hub/default")
    );
    assert!(!a.header("x-amzn-RequestId").is_empty());

    let a = send(&sim, Method::GET, "/accounts", None, None).await;
    assert_eq!(
        a.error(),
        (403, "MissingAuthenticationTokenException".into())
    );
    assert_eq!(a.json()["message"], "Missing Authentication Token");

    let a = send(
        &sim,
        Method::GET,
        "/accounts",
        None,
        Some(Signer {
            key: "AKIAUNKNOWN000000000",
            ..ADMIN
        }),
    )
    .await;
    assert_eq!(a.error(), (403, "UnrecognizedClientException".into()));
    assert_eq!(
        a.json()["message"],
        "The security token included in the request is invalid."
    );

    let a = send(
        &sim,
        Method::GET,
        "/accounts",
        None,
        Some(Signer {
            secret: "not-the-secret",
            ..ADMIN
        }),
    )
    .await;
    assert_eq!(a.error(), (403, "InvalidSignatureException".into()));
    assert!(
        a.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("The request signature we calculated does not match")
    );

    let stale = Utc::now() - TimeDelta::minutes(10);
    let a = send(
        &sim,
        Method::GET,
        "/accounts",
        None,
        Some(Signer {
            at: Some(stale),
            ..ADMIN
        }),
    )
    .await;
    assert_eq!(a.error(), (403, "InvalidSignatureException".into()));
    let msg = a.json()["message"].as_str().unwrap().to_owned();
    assert!(
        msg.starts_with(&format!(
            "Signature expired: {} is now earlier than",
            stale.format("%Y%m%dT%H%M%SZ")
        )),
        "{msg}"
    );

    let a = send(
        &sim,
        Method::GET,
        "/accounts",
        None,
        Some(Signer {
            region: "eu-west-1",
            ..ADMIN
        }),
    )
    .await;
    assert_eq!(a.error(), (403, "InvalidSignatureException".into()));
    assert!(
        a.text
            .contains("Credential should be scoped to a valid region"),
        "{}",
        a.text
    );

    // A body changed after signing.
    let url = url::Url::parse(&format!("{}/findings", sim.base_url())).unwrap();
    let signed = sign_request(
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
        HOME_REGION,
        "POST",
        &url,
        &[("content-type", "application/json")],
        b"{}",
        Utc::now(),
    );
    let mut req = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json");
    for (k, v) in signed {
        req = req.header(k, v);
    }
    let r = req.body(r#"{"MaxResults":1}"#).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("signature we calculated does not match")
    );

    // A query string is part of what is signed.
    let a = get(&sim, "/members?MaxResults=1&OnlyAssociated=true").await;
    assert_eq!(a.status, 200, "{}", a.text);

    let a = send(
        &sim,
        Method::GET,
        "/accounts",
        None,
        Some(Signer {
            key: LIMITED_ACCESS_KEY_ID,
            secret: LIMITED_SECRET_ACCESS_KEY,
            ..ADMIN
        }),
    )
    .await;
    assert_eq!(a.status, 200, "the limited key may describe the hub");
}

#[tokio::test]
async fn iam_policies_and_a_disabled_hub_are_refused_with_modeled_errors() {
    let sim = seeded().await;
    let limited = Signer {
        key: LIMITED_ACCESS_KEY_ID,
        secret: LIMITED_SECRET_ACCESS_KEY,
        ..ADMIN
    };
    let a = send(
        &sim,
        Method::POST,
        "/findings",
        Some(&json!({})),
        Some(limited),
    )
    .await;
    assert_eq!(a.error(), (403, "AccessDeniedException".into()));
    let body = a.json();
    assert_eq!(body["Code"], "AccessDeniedException");
    assert!(
        body["Message"]
            .as_str()
            .unwrap()
            .contains("is not authorized to perform: securityhub:GetFindings"),
        "{body}"
    );

    sim.set_hub_enabled(false);
    let a = get(&sim, "/accounts").await;
    assert_eq!(a.error(), (401, "InvalidAccessException".into()));
    assert_eq!(
        a.json()["Message"],
        format!("Account {ACCOUNT} is not subscribed to AWS Security Hub")
    );
    sim.set_hub_enabled(true);

    let a = get(&sim, "/nope").await;
    assert_eq!(a.error(), (404, "UnknownOperationException".into()));
}

#[tokio::test]
async fn get_findings_filters_sorts_and_pages() {
    let sim = seeded().await;
    sim.set_throttling(false);
    let mut filters = json!({ "AwsAccountId": eq("XXXXXXXXXXXX"), "Region": eq("us-east-1") });
    let a = findings(&sim, json!({ "Filters": filters })).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let all: Vec<String> = a.json()["Findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["Id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(all.len(), 4);
    assert!(a.json().get("NextToken").is_none());

    // Pages of 3 and 1, sorted by UpdatedAt ascending.
    let sort = json!([{ "Field": "UpdatedAt", "SortOrder": "asc" }]);
    let p1 = findings(
        &sim,
        json!({ "Filters": filters, "SortCriteria": sort, "MaxResults": 3 }),
    )
    .await
    .json();
    let token = p1["NextToken"].as_str().unwrap().to_owned();
    let p2 = findings(
        &sim,
        json!({ "Filters": filters, "SortCriteria": sort, "MaxResults": 3, "NextToken": token }),
    )
    .await
    .json();
    let paged: Vec<&Value> = p1["Findings"]
        .as_array()
        .unwrap()
        .iter()
        .chain(p2["Findings"].as_array().unwrap())
        .collect();
    assert_eq!(paged.len(), 4);
    assert!(p2.get("NextToken").is_none());
    let updated: Vec<&str> = paged
        .iter()
        .map(|f| f["UpdatedAt"].as_str().unwrap())
        .collect();
    assert!(updated.windows(2).all(|w| w[0] <= w[1]), "{updated:?}");

    // The token belongs to its query.
    let a = findings(
        &sim,
        json!({ "Filters": { "AwsAccountId": eq(ACCOUNT) }, "NextToken": token }),
    )
    .await;
    assert_eq!(a.error(), (400, "InvalidInputException".into()));
    let a = findings(&sim, json!({ "NextToken": "garbage!" })).await;
    assert_eq!(a.error(), (400, "InvalidInputException".into()));

    for (max, constraint) in [
        (101, "less than or equal to 100"),
        (0, "greater than or equal to 1"),
    ] {
        let a = findings(&sim, json!({ "MaxResults": max })).await;
        assert_eq!(a.error(), (400, "InvalidInputException".into()));
        assert!(
            a.json()["Message"].as_str().unwrap().contains(constraint),
            "{}",
            a.text
        );
    }

    // RecordState, dates and comparisons.
    filters["RecordState"] = eq("ARCHIVED");
    assert_eq!(
        findings(&sim, json!({ "Filters": filters })).await.json()["Findings"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let a = findings(&sim, json!({ "Filters": { "UpdatedAt": [{ "Start": "2023-03-01T08:00:00Z", "End": "2023-03-01T08:10:00Z" }] } })).await;
    assert_eq!(
        a.json()["Findings"].as_array().unwrap().len(),
        2,
        "{}",
        a.text
    );
    let a = findings(&sim, json!({ "Filters": { "UpdatedAt": [{ "DateRange": { "Value": 3650, "Unit": "DAYS" } }], "Region": eq(LINKED_REGION) } })).await;
    assert_eq!(
        a.json()["Findings"].as_array().unwrap().len(),
        1,
        "{}",
        a.text
    );
    let a = findings(&sim, json!({ "Filters": { "Title": [{ "Value": "CVE-", "Comparison": "PREFIX" }], "ProductName": [{ "Value": "Config", "Comparison": "NOT_EQUALS" }] } })).await;
    assert!(
        !a.json()["Findings"].as_array().unwrap().is_empty(),
        "{}",
        a.text
    );

    for bad in [
        json!({ "Title": [{ "Value": "a", "Comparison": "CONTAINS" }, { "Value": "b", "Comparison": "NOT_CONTAINS" }] }),
        json!({ "Title": [{ "Value": "a", "Comparison": "EQUALS" }, { "Value": "b", "Comparison": "NOT_EQUALS" }] }),
        json!({ "Title": [{ "Value": "a", "Comparison": "LIKE" }] }),
        json!({ "UpdatedAt": [{ "Start": "yesterday", "End": "today" }] }),
        json!({ "NoSuchAttribute": eq("x") }),
        json!({ "Title": (0..21).map(|i| json!({ "Value": format!("t{i}"), "Comparison": "EQUALS" })).collect::<Vec<_>>() }),
    ] {
        let a = findings(&sim, json!({ "Filters": bad })).await;
        assert_eq!(
            a.error(),
            (400, "InvalidInputException".into()),
            "{bad}: {}",
            a.text
        );
    }
    let eleven: serde_json::Map<String, Value> = [
        "AwsAccountId",
        "Region",
        "Id",
        "ProductArn",
        "ProductName",
        "GeneratorId",
        "Title",
        "RecordState",
        "WorkflowStatus",
        "ComplianceStatus",
        "SeverityLabel",
    ]
    .iter()
    .map(|k| ((*k).to_owned(), eq("x")))
    .collect();
    let a = findings(&sim, json!({ "Filters": eleven })).await;
    assert_eq!(a.error(), (400, "InvalidInputException".into()));
    let a = findings(
        &sim,
        json!({ "SortCriteria": [{ "Field": "UpdatedAt", "SortOrder": "up" }] }),
    )
    .await;
    assert_eq!(a.error(), (400, "InvalidInputException".into()));
    let a = send(
        &sim,
        Method::POST,
        "/findings",
        Some(&json!("not an object")),
        Some(ADMIN),
    )
    .await;
    assert_eq!(a.error(), (400, "InvalidInputException".into()));

    // Security Hub fills Region from the product ARN of findings imported without one.
    let config = findings(
        &sim,
        json!({ "Filters": { "ProductName": eq("Security Hub"), "Region": eq("us-east-1") } }),
    )
    .await;
    assert!(
        !config.json()["Findings"].as_array().unwrap().is_empty(),
        "{}",
        config.text
    );
}

#[tokio::test]
async fn members_and_the_aggregator() {
    let sim = seeded().await;
    let a = get(&sim, "/members").await.json();
    let accounts: Vec<&str> = a["Members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["AccountId"].as_str().unwrap())
        .collect();
    assert_eq!(accounts, ["111111111111", "1234567", "XXXXXXXXXXXX"]);
    assert_eq!(a["Members"][0]["MemberStatus"], "Enabled");
    assert_eq!(a["Members"][0]["AdministratorId"], ACCOUNT);

    let p1 = get(&sim, "/members?MaxResults=2").await.json();
    assert_eq!(p1["Members"].as_array().unwrap().len(), 2);
    let token = p1["NextToken"].as_str().unwrap();
    let p2 = get(&sim, &format!("/members?MaxResults=2&NextToken={token}"))
        .await
        .json();
    assert_eq!(p2["Members"].as_array().unwrap().len(), 1);
    assert!(p2.get("NextToken").is_none());
    assert_eq!(
        get(&sim, "/members?MaxResults=51").await.error(),
        (400, "InvalidInputException".into())
    );
    assert_eq!(
        get(&sim, "/members?OnlyAssociated=maybe").await.error(),
        (400, "InvalidInputException".into())
    );

    let list = get(&sim, "/findingAggregator/list").await.json();
    let arn = list["FindingAggregators"][0]["FindingAggregatorArn"]
        .as_str()
        .unwrap()
        .to_owned();
    let encoded: String = url::form_urlencoded::byte_serialize(arn.as_bytes()).collect();
    let agg = get(
        &sim,
        &format!("/findingAggregator/get/{}", encoded.replace("%2F", "/")),
    )
    .await;
    assert_eq!(agg.status, 200, "{}", agg.text);
    assert_eq!(agg.json()["RegionLinkingMode"], "SPECIFIED_REGIONS");
    assert_eq!(agg.json()["Regions"], json!([LINKED_REGION]));
    assert_eq!(agg.json()["FindingAggregationRegion"], HOME_REGION);
    let a = get(
        &sim,
        "/findingAggregator/get/arn:aws:securityhub:us-east-1:1:finding-aggregator/none",
    )
    .await;
    assert_eq!(a.error(), (404, "ResourceNotFoundException".into()));
}

#[tokio::test]
async fn get_findings_is_throttled_at_the_documented_rate() {
    let sim = seeded().await;
    let mut statuses = Vec::new();
    for _ in 0..10 {
        statuses.push(findings(&sim, json!({ "MaxResults": 1 })).await);
    }
    let throttled: Vec<&Answer> = statuses.iter().filter(|a| a.status == 429).collect();
    assert!(!throttled.is_empty(), "a burst of 10 exceeds 6");
    assert_eq!(
        throttled[0].error(),
        (429, "TooManyRequestsException".into())
    );
    assert_eq!(throttled[0].json()["message"], "Too Many Requests");
    assert!(
        throttled[0].headers.get("retry-after").is_none(),
        "AWS sends no Retry-After"
    );
    assert_eq!(
        get(&sim, "/accounts").await.status,
        200,
        "other operations have their own bucket"
    );
    sim.set_throttling(false);
    for _ in 0..10 {
        assert_eq!(findings(&sim, json!({ "MaxResults": 1 })).await.status, 200);
    }
}

#[tokio::test]
async fn records_live_and_die_as_the_tool_reports_them() {
    let sim = seeded().await;
    let ids = sim.record_ids();
    assert_eq!(ids.len(), 8, "4 accounts x 2 Regions: {ids:?}");
    assert!(ids.contains(&format!("{ACCOUNT}:{LINKED_REGION}")));
    assert_eq!(
        sim.open_findings("XXXXXXXXXXXX:us-east-1"),
        3,
        "one of four is suppressed"
    );
    assert_eq!(
        sim.open_findings(&format!("{ACCOUNT}:us-east-1")),
        1,
        "one failed control; the others passed"
    );

    let id = sim.add_record("payments", 5);
    assert!(sim.record_ids().contains(&id));
    assert_eq!(sim.open_findings(&id), 5);
    let first = sim.finding_ids(&id)[0].clone();
    let before = sim.finding(&first).unwrap();
    sim.fix_findings(&id, 2);
    assert_eq!(sim.open_findings(&id), 3);
    let fixed = sim.finding(&first).unwrap();
    assert_eq!(fixed["RecordState"], "ARCHIVED");
    assert_eq!(
        fixed["ProductFields"]["aws/inspector/FindingStatus"],
        "CLOSED"
    );
    assert!(fixed["UpdatedAt"].as_str() > before["UpdatedAt"].as_str());

    sim.mark_false_positive(&id);
    assert_eq!(sim.open_findings(&id), 2);
    let third = sim.finding(&sim.finding_ids(&id)[2]).unwrap();
    assert_eq!(third["VerificationState"], "FALSE_POSITIVE");
    let original = sim.finding_ids(&id)[2].clone();
    assert_eq!(
        sim.finding(&original).unwrap()["UpdatedAt"],
        third["UpdatedAt"],
        "BatchUpdateFindings leaves UpdatedAt"
    );

    sim.remove_record(&id);
    assert!(!sim.record_ids().contains(&id));
    sim.remove_record(&format!("{ACCOUNT}:{LINKED_REGION}"));
    assert_eq!(
        sim.record_ids().len(),
        4,
        "the linked Region is unlinked for every account"
    );
}

#[tokio::test]
async fn the_control_api_faults_and_cut_off_answers() {
    let sim = seeded().await;
    let http = reqwest::Client::new();
    let base = sim.base_url();
    let state: Value = http
        .get(format!("{base}/_sim/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["account"], ACCOUNT);
    assert_eq!(
        state["records"].as_array().unwrap().len(),
        5,
        "account and Region pairs with findings"
    );

    let r = http
        .post(format!("{base}/_sim/faults"))
        .json(&Fault {
            path_contains: Some("/findings".into()),
            status: 500,
            body: json!({ "message": "boom" }),
            times: 1,
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(findings(&sim, json!({})).await.status, 500);
    assert_eq!(findings(&sim, json!({})).await.status, 200);

    let r = http
        .post(format!("{base}/_sim/cut"))
        .json(&json!({ "path_contains": "/findings" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let url = url::Url::parse(&format!("{base}/findings")).unwrap();
    let mut req = http
        .post(url.clone())
        .header("content-type", "application/json");
    for (k, v) in sign_request(
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
        HOME_REGION,
        "POST",
        &url,
        &[("content-type", "application/json")],
        b"{}",
        Utc::now(),
    ) {
        req = req.header(k, v);
    }
    let r = req.body("{}").send().await.unwrap();
    assert!(r.text().await.is_err(), "the body is cut off");

    let added: Value = http
        .post(format!("{base}/_sim/records"))
        .json(&json!({ "name": "shop", "findings": 3 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = added["external_id"].as_str().unwrap().to_owned();
    assert_eq!(sim.open_findings(&id), 3);
    http.post(format!("{base}/_sim/records/{id}/fix"))
        .json(&json!({ "n": 1 }))
        .send()
        .await
        .unwrap();
    http.post(format!("{base}/_sim/records/{id}/false-positive"))
        .send()
        .await
        .unwrap();
    assert_eq!(sim.open_findings(&id), 1);
    http.delete(format!("{base}/_sim/records/{id}"))
        .send()
        .await
        .unwrap();
    assert!(!sim.record_ids().contains(&id));

    let counts: Value = http
        .get(format!("{base}/_sim/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        counts["counts"]["POST /findings"], 2,
        "served requests (a faulted one is not served): {counts}"
    );
    assert!(sim.summary().contains(ACCESS_KEY_ID));
}

#[tokio::test]
async fn generated_worlds_are_large_and_unthrottled() {
    let sim = AwsSecurityHubSim::generate(3, 250).await.unwrap();
    assert_eq!(sim.record_ids().len(), 3);
    let mut seen = 0;
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({ "Filters": { "AwsAccountId": eq(ACCOUNT) }, "MaxResults": 100 });
        if let Some(t) = &token {
            body["NextToken"] = json!(t);
        }
        let page = findings(&sim, body).await.json();
        seen += page["Findings"].as_array().unwrap().len();
        match page["NextToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, 250);
}
