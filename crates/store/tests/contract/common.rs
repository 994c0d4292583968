//! Fixtures shared by the contract tests.

use domain::*;
use store::testing::TestDb;
use store::{Db, engagements, products, tests};

pub struct World {
    pub product: Product,
    pub engagement: Engagement,
    pub test: Test,
}

pub fn name(s: &str) -> Name {
    Name::parse("name", s).unwrap()
}

pub async fn world(db: &Db, product_name: &str) -> World {
    let mut tx = db.begin().await.unwrap();
    let product = products::create(
        &mut tx,
        NewProduct {
            name: name(product_name),
            description: Some("A product".into()),
            product_type: None,
            business_criticality: Some("high".into()),
            tags: vec!["web".into()],
        },
    )
    .await
    .unwrap();
    let engagement = engagements::create(&mut tx, NewEngagement::named(product.id, name("CI")))
        .await
        .unwrap();
    let test = tests::create(
        &mut tx,
        NewTest::new(engagement.id, name("Semgrep"), name("Semgrep JSON Report")),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    World {
        product,
        engagement,
        test,
    }
}

pub fn finding(test: &Test, title: &str, severity: Severity) -> Finding {
    NewFinding::new(test.id, Title::parse("title", title).unwrap(), severity)
        .normalize()
        .unwrap()
        .into_finding(test, store::now(), None)
}

#[allow(dead_code)]
pub fn _uses(_: TestDb) {}
