//! Import: upload a report with its scan type, see the summary; errors stay on the form.

use crate::harness::{Browser, Ui};
use domain::Role;
use store::testing::TestDb;

store::both_backends!(upload_a_report);

const REPORT: &str = include_str!("../../../../fixtures/scans/semgrep/high-medium-low-severities.json");

/// A multipart body (reqwest here has no multipart feature; the format is simple).
fn multipart(fields: &[(&str, &str)], file: Option<(&str, &str)>) -> (String, String) {
    let boundary = "vulnbridge-test-boundary-7d1f";
    let mut body = String::new();
    for (k, v) in fields {
        body.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"));
    }
    if let Some((name, content)) = file {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/json\r\n\r\n{content}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload_a_report(t: TestDb) {
    let ui = Ui::start(t).await;
    let wanda = ui.user("wanda", None).await;
    let rita = ui.user("rita", None).await;
    let shop = ui.world("Shop").await;
    ui.member(shop.product.id, wanda, Role::Writer).await;
    ui.member(shop.product.id, rita, Role::Reader).await;

    let b = Browser::logged_in(&ui, "wanda").await;
    let page = b.get("/import").await;
    let body = page.ok();
    assert!(body.contains(r#"href="/import" aria-current="page">Import"#));
    assert!(body.contains(r#"<option value="Shop">Shop</option>"#));
    assert!(body.contains(r#"<option value="Semgrep JSON Report">"#));
    assert!(body.contains(r#"enctype="multipart/form-data""#));
    let csrf = page.csrf();

    let fields = |token: &str, scan: &str| {
        vec![
            ("csrf", token.to_owned()),
            ("product_name", "Shop".to_owned()),
            ("engagement_name", "Manual imports".to_owned()),
            ("scan_type", scan.to_owned()),
            ("minimum_severity", "info".to_owned()),
            ("auto_create_context", "true".to_owned()),
        ]
    };
    let send = |f: Vec<(&'static str, String)>, file: Option<(&'static str, &'static str)>| {
        let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        multipart(&pairs, file)
    };

    // Without the token first, nothing is read.
    let (ct, body) = send(fields("forged", "Semgrep JSON Report"), Some(("semgrep.json", REPORT)));
    let r = b.post_raw("/import", &ct, &body).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("security token (CSRF)"));

    let (ct, body) = send(fields(&csrf, "Semgrep JSON Report"), Some(("semgrep.json", REPORT)));
    let r = b.post_raw("/import", &ct, &body).await;
    let done = r.ok();
    assert!(done.contains("Import done") && done.contains("semgrep.json") && done.contains("Shop"), "{done}");
    assert!(done.contains("<th>created</th><td>3</td>"), "{done}");
    let mut c = ui.t.db.conn().await.unwrap();
    let list = store::findings::list(&mut c, &Default::default(), &domain::Visibility::All, store::PageRequest::default()).await.unwrap();
    assert_eq!(list.count, 3);
    drop(c);

    // What the API refuses, the form says, and stays filled in for another try.
    let (ct, body) = send(fields(&csrf, "Semgrep JSON Report"), Some(("broken.json", "{\"results\": [")));
    let r = b.post_raw("/import", &ct, &body).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains(r#"class="alert""#) && r.body.contains("Import a report"), "{}", r.body);
    let (ct, body) = send(fields(&csrf, "No Such Scanner"), Some(("x.json", "{}")));
    let r = b.post_raw("/import", &ct, &body).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("unknown scan_type"), "{}", r.body);
    let (ct, body) = send(fields(&csrf, "Semgrep JSON Report"), None);
    let r = b.post_raw("/import", &ct, &body).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("uploading a report file is required"), "{}", r.body);

    // A reader has nothing to import into, and cannot import by hand-made request either.
    let rb = Browser::logged_in(&ui, "rita").await;
    let page = rb.get("/import").await;
    assert!(page.ok().contains("you have none yet"));
    let (ct, body) = send(fields(&page.csrf(), "Semgrep JSON Report"), Some(("semgrep.json", REPORT)));
    let r = rb.post_raw("/import", &ct, &body).await;
    assert_eq!(r.status, 403, "{}", r.body);
}
