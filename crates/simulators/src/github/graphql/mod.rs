//! `POST /api/graphql`: GitHub's GraphQL API for Projects (v2), over the schema subset in
//! `schema.graphql`. Authentication and rate limits as for REST (GraphQL has its own points
//! budget); document errors answer 200 with `errors` and no `data`, as GitHub does.

mod checks;
mod mutation;
mod objects;
mod query;

use super::Sim;
use super::api::{self, ApiError, Caller, Tx};
use super::limits::{RateHeaders, Refusal, Resource};
use crate::common::graphql::{self, FieldCall, GqlError, Out, Resolver, Schema};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use objects::Obj;
use serde_json::{Value as Json, json};
use std::sync::OnceLock;

const GRAPHQL_DOCS: &str = "https://docs.github.com/graphql";
const AUTH_DOCS: &str =
    "https://docs.github.com/graphql/guides/forming-calls-with-graphql#authenticating-with-graphql";

/// The schema, parsed once.
pub fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| match Schema::parse(include_str!("schema.graphql")) {
        Ok(s) => s,
        // The schema is part of the source; the unit test below keeps it parseable.
        Err(e) => panic!(
            "the simulator's GraphQL schema does not parse: {}",
            e.message
        ),
    })
}

/// The resolver: the state (through the transaction), the viewer, and what `rateLimit`
/// reports.
pub struct Gql<'t, 'b> {
    pub tx: &'t mut Tx<'b>,
    pub caller: Caller,
    pub cost: u32,
    pub node_count: u32,
    pub rate: RateHeaders,
}

impl Resolver for Gql<'_, '_> {
    type Obj = Obj;

    fn type_of(&self, obj: &Obj) -> String {
        objects::type_of(self.tx.st, obj)
    }

    fn resolve(&mut self, obj: &Obj, call: &FieldCall<'_>) -> Result<Out<Obj>, GqlError> {
        match obj {
            Obj::Mutation => self.resolve_mutation(call),
            _ => self.resolve_query(obj, call),
        }
    }
}

fn respond(status: StatusCode, body: Json, headers: &[(&'static str, String)]) -> Response {
    let mut r = (status, axum::Json(body)).into_response();
    api::set_headers(r.headers_mut(), headers);
    r
}

pub async fn handle(State(sim): State<Sim>, headers: HeaderMap, bytes: Bytes) -> Response {
    let rid = api::request_id();
    let mut extra = api::common_headers(&rid, "2022-11-28");
    let caller = {
        let st = sim.lock();
        api::authenticate(&st, &headers)
    };
    let caller = match caller {
        Ok(Some(c)) => c,
        Ok(None) => {
            sim.log.count("POST /api/graphql");
            let e = ApiError::new(
                StatusCode::UNAUTHORIZED,
                "This endpoint requires you to be authenticated.",
                AUTH_DOCS,
            );
            return respond(e.status, e.body, &extra);
        }
        Err(e) => {
            sim.log.count("POST /api/graphql");
            return respond(e.status, e.body, &extra);
        }
    };
    extra.extend(api::scope_headers(Some(&caller), "repo"));
    let Ok(body) = serde_json::from_slice::<Json>(&bytes) else {
        sim.log.count("POST /api/graphql");
        let e = ApiError::new(
            StatusCode::BAD_REQUEST,
            "Problems parsing JSON",
            GRAPHQL_DOCS,
        );
        return respond(e.status, e.body, &extra);
    };
    let Some(query) = body.get("query").and_then(Json::as_str) else {
        sim.log.count("POST /api/graphql");
        let rate = sim.limiter().peek(&caller.key(), Resource::Graphql);
        extra.extend(rate.pairs());
        return respond(
            StatusCode::OK,
            json!({ "errors": [{ "message": "A query attribute must be specified and must be a string." }] }),
            &extra,
        );
    };
    let op_name = body.get("operationName").and_then(Json::as_str);
    let variables = body.get("variables").cloned().unwrap_or(Json::Null);
    let schema = schema();
    let prepared = match graphql::prepare(schema, query, op_name, &variables) {
        Ok(p) => p,
        Err(errors) => {
            sim.log.count("POST /api/graphql");
            let rate = sim.limiter().peek(&caller.key(), Resource::Graphql);
            extra.extend(rate.pairs());
            return respond(StatusCode::OK, GqlError::response(&errors), &extra);
        }
    };
    let first = prepared
        .root_fields()
        .into_iter()
        .next()
        .unwrap_or_default();
    sim.log
        .count(format!("POST /api/graphql {first}").trim_end().to_owned());
    let mut errors = checks::scopes(schema, &prepared, &caller, sim.base());
    errors.extend(checks::pagination(schema, &prepared));
    if !errors.is_empty() {
        let rate = sim.limiter().peek(&caller.key(), Resource::Graphql);
        extra.extend(rate.pairs());
        return respond(StatusCode::OK, GqlError::response(&errors), &extra);
    }
    let (cost, node_count) = checks::cost(schema, &prepared);
    let charged = sim.limiter().charge(
        &caller.key(),
        Resource::Graphql,
        cost,
        checks::content_creations(&prepared),
    );
    let rate = match charged {
        Ok(h) => h,
        Err(Refusal::Primary(h)) => {
            extra.extend(h.pairs());
            let msg = format!("API rate limit already exceeded for user ID {}.", caller.id);
            return respond(
                StatusCode::OK,
                json!({ "errors": [{ "type": "RATE_LIMITED", "code": "graphql_rate_limit", "message": msg }] }),
                &extra,
            );
        }
        Err(r) => {
            let e = api::refusal(r, caller.id, &rid);
            extra.extend(e.headers.iter().cloned());
            return respond(e.status, e.body, &extra);
        }
    };
    extra.extend(rate.pairs());
    let mut st = sim.lock();
    let mut tx = Tx {
        st: &mut st,
        base: sim.base(),
        out: Vec::new(),
    };
    let root = if prepared.operation().kind == graphql::OpKind::Mutation {
        Obj::Mutation
    } else {
        Obj::Query
    };
    let (data, errors) = {
        let mut g = Gql {
            tx: &mut tx,
            caller,
            cost,
            node_count,
            rate,
        };
        graphql::execute(schema, &prepared, &mut g, root)
    };
    let out = std::mem::take(&mut tx.out);
    drop(st);
    for o in out {
        sim.outbox.send(&o.url, o.headers, o.body);
    }
    let mut resp = serde_json::Map::new();
    resp.insert("data".into(), data);
    if !errors.is_empty() {
        resp.insert(
            "errors".into(),
            Json::Array(errors.iter().map(GqlError::to_json).collect()),
        );
    }
    respond(StatusCode::OK, Json::Object(resp), &extra)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_schema_parses_and_names_github_types() {
        let s = super::schema();
        for t in [
            "ProjectV2",
            "ProjectV2SingleSelectField",
            "ProjectV2FieldCommon",
            "AddProjectV2ItemByIdInput",
            "Mutation",
        ] {
            assert!(s.get(t).is_some(), "{t}");
        }
        assert!(s.is_possible("ProjectV2FieldCommon", "ProjectV2SingleSelectField"));
        assert!(s.is_possible("ProjectV2FieldConfiguration", "ProjectV2Field"));
    }
}
