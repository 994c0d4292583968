//! Finds (or, with `auto_create_context`, creates) the product type, product, engagement and
//! test an import goes into, checking the actor's rights at each step.

use super::ImportError;
use super::options::{ImportOptions, Target};
use domain::{
    Action, Actor, Engagement, EngagementType, Name, NewEngagement, NewProduct, NewProductType,
    NewTest, Product, Test, ValidationError,
};
use store::{AsConn, engagements, product_types, products, tests};

fn name(field: &str, value: &str) -> Result<Name, ImportError> {
    Ok(Name::parse(field, value)?)
}

/// Where the import lands and whether the test is new.
pub struct Resolved {
    pub product: Product,
    pub engagement: Engagement,
    pub test: Test,
    pub test_is_new: bool,
}

fn can(actor: &Actor, action: Action, product: &Product, doing: &str) -> Result<(), ImportError> {
    if actor.can(action, product.id) {
        Ok(())
    } else if actor.can_see(product.id) {
        Err(ImportError::Forbidden(format!(
            "{doing} needs the {} role on product '{}'",
            match action {
                Action::View => "reader",
                Action::Write => "writer",
                Action::Manage => "maintainer",
                Action::Administer => "admin",
            },
            product.name
        )))
    } else {
        Err(ImportError::NotFound { field: "product", what: format!("product {}", product.id) })
    }
}

async fn product_for(c: &mut impl AsConn, actor: &Actor, target: &Target, opts: &ImportOptions) -> Result<Product, ImportError> {
    if let Some(id) = target.product {
        return match products::get(c, id).await {
            Ok(p) if actor.can_see(p.id) => Ok(p),
            Ok(_) | Err(store::StoreError::NotFound { .. }) => {
                Err(ImportError::NotFound { field: "product", what: format!("product {id}") })
            }
            Err(e) => Err(e.into()),
        };
    }
    let Some(pname) = target.product_name.as_deref() else {
        return Err(ImportError::Invalid(ValidationError::new(
            "product_name",
            "name the product (product_name), or give an engagement or test id",
        )));
    };
    match products::get_by_name(c, pname.trim()).await? {
        Some(p) if actor.can_see(p.id) => Ok(p),
        Some(_) => Err(ImportError::NotFound { field: "product_name", what: format!("product '{pname}'") }),
        None if opts.auto_create_context => {
            if !actor.can_globally(Action::Manage) {
                return Err(ImportError::Forbidden(format!(
                    "creating product '{pname}' needs the global maintainer role"
                )));
            }
            let product_type = match target.product_type_name.as_deref() {
                Some(ptn) => Some(match product_types::get_by_name(c, ptn.trim()).await? {
                    Some(pt) => pt.id,
                    None => {
                        product_types::get_or_create(
                            c,
                            NewProductType { name: name("product_type_name", ptn)?, description: None, critical: false },
                        )
                        .await?
                        .id
                    }
                }),
                None => None,
            };
            Ok(products::get_or_create(
                c,
                NewProduct {
                    name: name("product_name", pname)?,
                    description: None,
                    product_type,
                    business_criticality: None,
                    tags: Vec::new(),
                },
            )
            .await?)
        }
        None => Err(ImportError::NotFound {
            field: "product_name",
            what: format!("product '{pname}' (set auto_create_context to create it)"),
        }),
    }
}

async fn engagement_for(
    c: &mut impl AsConn,
    actor: &Actor,
    target: &Target,
    opts: &ImportOptions,
) -> Result<(Product, Engagement), ImportError> {
    if let Some(id) = target.engagement {
        let e = match engagements::get(c, id).await {
            Ok(e) if actor.can_see(e.product) => e,
            Ok(_) | Err(store::StoreError::NotFound { .. }) => {
                return Err(ImportError::NotFound { field: "engagement", what: format!("engagement {id}") });
            }
            Err(e) => return Err(e.into()),
        };
        let p = products::get(c, e.product).await?;
        return Ok((p, e));
    }
    let product = product_for(c, actor, target, opts).await?;
    let Some(ename) = target.engagement_name.as_deref() else {
        return Err(ImportError::Invalid(ValidationError::new(
            "engagement_name",
            "name the engagement (engagement_name), or give an engagement or test id",
        )));
    };
    match engagements::get_by_name(c, product.id, ename.trim()).await? {
        Some(e) => Ok((product, e)),
        None if opts.auto_create_context => {
            can(actor, Action::Write, &product, "creating an engagement by import")?;
            let mut ne = NewEngagement::named(product.id, name("engagement_name", ename)?);
            ne.engagement_type = EngagementType::CiCd;
            ne.build_id = opts.build_id.clone();
            ne.commit_hash = opts.commit_hash.clone();
            ne.branch_tag = opts.branch_tag.clone();
            ne.version = opts.version.clone();
            // Concurrent imports (or connector syncs) auto-creating it get one engagement.
            let e = engagements::get_or_create(c, ne).await?;
            Ok((product, e))
        }
        None => Err(ImportError::NotFound {
            field: "engagement_name",
            what: format!("engagement '{ename}' in product '{}' (set auto_create_context to create it)", product.name),
        }),
    }
}

/// Resolves the target inside the caller's transaction.
pub async fn resolve_target(
    c: &mut impl AsConn,
    actor: &Actor,
    scan_type: &str,
    target: &Target,
    opts: &ImportOptions,
) -> Result<Resolved, ImportError> {
    if let Some(id) = target.test {
        let test = match tests::get(c, id).await {
            Ok(t) if actor.can_see(t.product) => t,
            Ok(_) | Err(store::StoreError::NotFound { .. }) => {
                return Err(ImportError::NotFound { field: "test", what: format!("test {id}") });
            }
            Err(e) => return Err(e.into()),
        };
        if !test.scan_type.eq_ignore_ascii_case(scan_type) {
            return Err(ImportError::Invalid(ValidationError::new(
                "scan_type",
                format!("test {id} holds '{}' results; a '{scan_type}' report cannot be reimported into it", test.scan_type),
            )));
        }
        let product = products::get(c, test.product).await?;
        can(actor, Action::Write, &product, "importing")?;
        let engagement = engagements::get(c, test.engagement).await?;
        return Ok(Resolved { product, engagement, test, test_is_new: false });
    }
    let (product, engagement) = engagement_for(c, actor, target, opts).await?;
    can(actor, Action::Write, &product, "importing")?;
    if opts.reimport
        && let Some(test) =
            tests::find_for_reimport(c, engagement.id, scan_type, target.test_title.as_deref()).await?
    {
        return Ok(Resolved { product, engagement, test, test_is_new: false });
    }
    if opts.reimport && !opts.auto_create_context {
        return Err(ImportError::NotFound {
            field: "test",
            what: format!(
                "a '{scan_type}' test{} in engagement '{}' to reimport into (set auto_create_context to create one)",
                target.test_title.as_deref().map(|t| format!(" titled '{t}'")).unwrap_or_default(),
                engagement.name
            ),
        });
    }
    let title = target.test_title.clone().unwrap_or_else(|| scan_type.to_owned());
    let mut nt = NewTest::new(engagement.id, name("test_title", &title)?, name("scan_type", scan_type)?);
    nt.version = opts.version.clone();
    nt.build_id = opts.build_id.clone();
    nt.commit_hash = opts.commit_hash.clone();
    nt.branch_tag = opts.branch_tag.clone();
    nt.environment = opts.environment.clone();
    nt.tags = opts.tags.clone();
    let test = tests::create(c, nt).await?;
    Ok(Resolved { product, engagement, test, test_is_new: true })
}
