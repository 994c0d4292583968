//! A small GraphQL implementation for simulators of GraphQL APIs: a parser for documents
//! (operations, variables, selection sets, aliases, arguments, fragments, inline fragments,
//! directives) and for the schema language, static validation with the messages and error
//! codes graphql-ruby gives (the library GitHub's API runs on, so clients see the same
//! errors), variable coercion, and an executor that walks a document over a
//! [`Resolver`] the simulator writes.
//!
//! A simulator declares the part of the vendor's schema it serves in SDL (names taken from
//! the vendor's published schema), implements [`Resolver`] for its state, and calls
//! [`prepare`] then [`execute`].

mod ast;
mod coerce;
mod error;
mod exec;
mod lexer;
mod parser;
mod schema;
mod validate;

pub use ast::{
    Argument, Directive, Document, Field, Fragment, InlineFragment, OpKind, Operation, Pos,
    Selection, Spread, TypeRef, Value, VariableDef,
};
pub use error::GqlError;
pub use exec::{FieldCall, Out, Resolver, execute};
pub use parser::parse_document;
pub use schema::{FieldDef, InputValue, Schema, TypeDef, TypeKind};
pub use validate::{Prepared, prepare, visit_fields};
