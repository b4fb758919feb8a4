//! A query put together from pieces, each value bound as its placeholder is written. The
//! closest safe stand-in for `sqlx::QueryBuilder`, which cannot serve both engines through
//! `sqlx::Any`: its `push_bind` writes the placeholder `AnyArguments` formats, the default `?`,
//! which SQLite takes and PostgreSQL refuses (a syntax error: `?` is an operator there). Here
//! placeholders are numbered (`$1`, `$2`, …), which both engines take, and SQL text and values
//! never mix: no value is formatted into the text, no `?` is rewritten afterwards.

use sqlx::any::{Any, AnyArguments, AnyRow};
use sqlx::error::BoxDynError;
use sqlx::query::{Query, QueryAs, QueryScalar};
use sqlx::{Arguments, Encode, FromRow, Type};

pub(crate) struct Sql {
    text: String,
    args: AnyArguments,
    /// The first value that failed to encode; the query is then refused when it is built.
    error: Option<BoxDynError>,
}

impl Sql {
    pub(crate) fn new(init: &str) -> Sql {
        Sql { text: init.to_string(), args: AnyArguments::default(), error: None }
    }

    /// Appends SQL text: only constants of our own, never a value.
    pub(crate) fn push(&mut self, sql: &str) -> &mut Sql {
        self.text.push_str(sql);
        self
    }

    /// Binds a value and appends its placeholder.
    pub(crate) fn push_bind<'t, T: Encode<'t, Any> + Type<Any>>(&mut self, value: T) -> &mut Sql {
        if let Err(e) = self.args.add(value) {
            self.error.get_or_insert(e);
        }
        self.text.push_str(&format!("${}", self.args.len()));
        self
    }

    /// Binds each value, writing their placeholders separated by commas (an `IN (…)` list).
    pub(crate) fn push_binds<'t, T: Encode<'t, Any> + Type<Any>>(
        &mut self,
        values: impl IntoIterator<Item = T>,
    ) -> &mut Sql {
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.push_bind(v);
        }
        self
    }

    /// The text and its arguments; the error of a value that did not encode, if one did not.
    fn parts(self) -> sqlx::Result<(sqlx::AssertSqlSafe<String>, AnyArguments)> {
        match self.error {
            Some(e) => Err(sqlx::Error::Encode(e)),
            None => Ok((sqlx::AssertSqlSafe(self.text), self.args)),
        }
    }

    pub(crate) fn query_as<'q, T>(self) -> sqlx::Result<QueryAs<'q, Any, T, AnyArguments>>
    where
        T: for<'r> FromRow<'r, AnyRow>,
    {
        let (text, args) = self.parts()?;
        Ok(sqlx::query_as_with(text, args))
    }

    pub(crate) fn query_scalar<'q, T>(self) -> sqlx::Result<QueryScalar<'q, Any, T, AnyArguments>>
    where
        (T,): for<'r> FromRow<'r, AnyRow>,
    {
        let (text, args) = self.parts()?;
        Ok(sqlx::query_scalar_with(text, args))
    }

    pub(crate) fn query<'q>(self) -> sqlx::Result<Query<'q, Any, AnyArguments>> {
        let (text, args) = self.parts()?;
        Ok(sqlx::query_with(text, args))
    }
}

#[cfg(test)]
mod tests {
    use super::Sql;

    /// Why this type exists: sqlx's own builder writes `?` for `Any`, which PostgreSQL refuses.
    #[test]
    fn sqlx_query_builder_writes_question_marks_for_any_and_this_writes_numbered_placeholders() {
        let mut theirs = sqlx::QueryBuilder::<sqlx::Any>::new("SELECT 1 WHERE 2 = ");
        theirs.push_bind(2_i64);
        assert_eq!(theirs.sql().as_str(), "SELECT 1 WHERE 2 = ?");
        let mut ours = Sql::new("SELECT 1 WHERE 2 = ");
        ours.push_bind(2_i64).push(" AND 3 IN (").push_binds([3_i64, 4]).push(") LIMIT ").push_bind(1_i64);
        assert_eq!(ours.text, "SELECT 1 WHERE 2 = $1 AND 3 IN ($2, $3) LIMIT $4");
    }
}
