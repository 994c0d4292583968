//! Every fixture report imports end to end (parser, engine, database), and reimporting it
//! unchanged creates and closes nothing. On both databases.

use domain::{Actor, Role, UserId};
use engine::import::{ImportOptions, Report, Target, run};
use engine::{App, Settings};
use store::testing::TestDb;

store::both_backends!(every_fixture_imports_and_reimports_unchanged);

/// Fixture directory → scan type. `api_sonarqube` holds SonarQube *API responses* for the
/// connector (issue lists, rules, hotspots), not reports, and is imported by the connector.
const DIRS: &[(&str, &str)] = &[
    ("awssecurityhub", "AWS Security Hub Scan"),
    ("burp", "Burp Scan"),
    ("burp_api", "Burp REST API"),
    ("burp_dastardly", "Burp Dastardly Scan"),
    ("burp_graphql", "Burp GraphQL API"),
    ("burp_suite_dast", "Burp Suite DAST Scan"),
    ("checkmarx_one", "Checkmarx One Scan"),
    ("dependency_track", "Dependency Track Finding Packaging Format (FPF) Export"),
    ("sarif", "SARIF"),
    ("semgrep", "Semgrep JSON Report"),
    ("semgrep_pro", "Semgrep Pro JSON Report"),
    ("snyk", "Snyk Scan"),
    ("snyk_code", "Snyk Code Scan"),
    ("snyk_issue_api", "Snyk Issue API Scan"),
    ("sonarqube", "SonarQube Scan"),
    ("tenable", "Tenable Scan"),
];

fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_none_or(|x| x != "md") {
            out.push(p);
        }
    }
}

async fn every_fixture_imports_and_reimports_unchanged(t: TestDb) {
    let app = App::new(t.db.clone(), secrets::Cipher::new(&secrets::MasterKey::generate()), Settings::new("http://x"));
    let actor = Actor { user_id: UserId(1), username: "ci".into(), global_role: Some(Role::Admin), product_roles: Default::default() };
    let root = scanners::testing::fixture("");
    let mut imported = 0;
    for (dir, scan_type) in DIRS {
        let st = scanners::find_scan_type(scan_type).unwrap_or_else(|| panic!("{scan_type} is registered"));
        let mut paths = Vec::new();
        files(&root.join(dir), &mut paths);
        paths.sort();
        for path in paths {
            let name = path.strip_prefix(&root).unwrap().display().to_string();
            // Deliberately invalid inputs (DefectDojo's tests expect an error for these too):
            // they must fail cleanly, leaving nothing.
            let must_fail = name.ends_with("burp_graphql/null_title.json");
            let target = Target {
                product_name: Some(format!("P {dir}")),
                engagement_name: Some("E".into()),
                test_title: Some(name.clone()),
                ..Default::default()
            };
            let open = || Report::from_file(&path).unwrap();
            let first = run(&app, &actor, st, &target, &ImportOptions { auto_create_context: true, ..Default::default() }, open(), &|_| {}).await;
            if must_fail {
                assert!(first.is_err(), "{name} should be refused");
                continue;
            }
            let first = first.unwrap_or_else(|e| panic!("{name}: {e}"));
            let again = run(&app, &actor, st, &target, &ImportOptions { reimport: true, ..Default::default() }, open(), &|_| {})
                .await
                .unwrap_or_else(|e| panic!("{name} (reimport): {e}"));
            let (a, b) = (first.import.counts, again.import.counts);
            assert_eq!(b.created + b.duplicate + b.closed + b.reactivated, 0, "{name}: an unchanged reimport changes nothing: {b:?}");
            assert_eq!(b.untouched + b.updated, a.created + a.duplicate, "{name}: every finding matched: first {a:?}, again {b:?}");
            imported += 1;
        }
    }
    assert!(imported >= 120, "only {imported} fixtures imported");
}
