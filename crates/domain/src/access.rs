//! Who may do what. Pure functions over an `Actor`, so every rule is tested here and the web
//! layer only asks. A user has an optional global role and a role per product; the higher of
//! the two applies to a product.

use crate::{ProductId, UserId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Ordered from least to most powerful.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sees the product and its findings.
    Reader,
    /// Also creates and changes findings, imports reports, pushes to trackers.
    Writer,
    /// Also manages the product: settings, engagements, tests, members, tracker assignments.
    Maintainer,
    /// Everything, everywhere: users, integration instances, connectors.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Reader, Role::Writer, Role::Maintainer, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Writer => "writer",
            Role::Maintainer => "maintainer",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// Something a user wants to do to a product (or, for `Administer`, to the installation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Read the product, its engagements, tests, findings, groups and tickets.
    View,
    /// Create or change findings and groups, import reports, push to trackers.
    Write,
    /// Change the product itself, its engagements, tests and members.
    Manage,
    /// Users, product types, integration instances, connectors, jobs.
    Administer,
}

impl Action {
    fn required(self) -> Role {
        match self {
            Action::View => Role::Reader,
            Action::Write => Role::Writer,
            Action::Manage => Role::Maintainer,
            Action::Administer => Role::Admin,
        }
    }
}

/// Which products a query may return.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Visibility {
    All,
    /// Only these (possibly none).
    Only(Vec<ProductId>),
}

/// The authenticated user, with everything needed to decide access without IO.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user_id: UserId,
    pub username: String,
    pub global_role: Option<Role>,
    pub product_roles: BTreeMap<ProductId, Role>,
}

impl Actor {
    /// The role that applies on `product`: the higher of the global and the product role.
    pub fn role_on(&self, product: ProductId) -> Option<Role> {
        self.global_role.max(self.product_roles.get(&product).copied())
    }

    /// May the actor do `action` on `product`?
    pub fn can(&self, action: Action, product: ProductId) -> bool {
        if action == Action::Administer {
            return self.is_admin();
        }
        self.role_on(product).is_some_and(|r| r >= action.required())
    }

    /// May the actor do `action` on things that belong to no product (create a product,
    /// manage product types)? Only the global role counts.
    pub fn can_globally(&self, action: Action) -> bool {
        self.global_role.is_some_and(|r| r >= action.required())
    }

    pub fn is_admin(&self) -> bool {
        self.global_role == Some(Role::Admin)
    }

    /// The products this actor may see.
    pub fn visibility(&self) -> Visibility {
        if self.global_role.is_some() {
            Visibility::All
        } else {
            Visibility::Only(self.product_roles.keys().copied().collect())
        }
    }

    pub fn can_see(&self, product: ProductId) -> bool {
        self.can(Action::View, product)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(global: Option<Role>, products: &[(i64, Role)]) -> Actor {
        Actor {
            user_id: UserId(1),
            username: "u".into(),
            global_role: global,
            product_roles: products.iter().map(|(p, r)| (ProductId(*p), *r)).collect(),
        }
    }

    const ACTIONS: [Action; 4] = [Action::View, Action::Write, Action::Manage, Action::Administer];

    /// The whole table: for every global role, product role and action, the expected answer.
    #[test]
    fn exhaustive_permission_table() {
        let roles: Vec<Option<Role>> =
            std::iter::once(None).chain(Role::ALL.into_iter().map(Some)).collect();
        for &global in &roles {
            for &on_product in &roles {
                let a = actor(global, &on_product.map(|r| vec![(7, r)]).unwrap_or_default());
                for action in ACTIONS {
                    let effective = global.max(on_product);
                    let expected = match action {
                        Action::Administer => global == Some(Role::Admin),
                        _ => effective.is_some_and(|r| r >= action.required()),
                    };
                    assert_eq!(
                        a.can(action, ProductId(7)),
                        expected,
                        "global={global:?} product={on_product:?} action={action:?}"
                    );
                    // Another product is governed by the global role alone.
                    let other_expected = match action {
                        Action::Administer => global == Some(Role::Admin),
                        _ => global.is_some_and(|r| r >= action.required()),
                    };
                    assert_eq!(a.can(action, ProductId(8)), other_expected);
                }
            }
        }
    }

    #[test]
    fn a_product_admin_role_does_not_administer_the_installation() {
        let a = actor(None, &[(1, Role::Admin)]);
        assert!(a.can(Action::Manage, ProductId(1)));
        assert!(!a.can(Action::Administer, ProductId(1)));
        assert!(!a.is_admin());
    }

    #[test]
    fn visibility() {
        assert_eq!(actor(Some(Role::Reader), &[]).visibility(), Visibility::All);
        assert_eq!(
            actor(None, &[(2, Role::Reader), (5, Role::Writer)]).visibility(),
            Visibility::Only(vec![ProductId(2), ProductId(5)])
        );
        assert_eq!(actor(None, &[]).visibility(), Visibility::Only(vec![]));
    }

    #[test]
    fn roles_parse() {
        assert_eq!(Role::parse("Maintainer"), Some(Role::Maintainer));
        assert_eq!(Role::parse("owner"), None);
    }
}
