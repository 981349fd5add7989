//! The legacy import: a CSV file of `email, organization, role` lines read and checked row by
//! row (every refused line listed with its reason), then the good rows applied as staff links
//! in one transaction, each in the staff audit log.

use std::collections::HashMap;

use diesel::prelude::*;
use stratus_shared::api::organizations::Role;
use stratus_shared::api::staff::{
    ImportReport, ImportRowError, LinkSource, Linked, IMPORT_MAX_ROWS,
};
use stratus_shared::email::EmailAddress;

use crate::db::schema::organizations;
use crate::db::AnyConnection;
use crate::domain::audit::{self, Actor};
use crate::domain::staff_links::{link_address, link_detail, LinkEffect, OrganizationRef};
use crate::error::AppError;

/// One data row of a legacy import file, as read (not checked yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// The line it starts on, counted from 1.
    pub line: u64,
    pub email: String,
    pub organization: String,
    pub role: String,
}

/// Turns csv's byte offsets into 1-based line numbers (csv's own line count is off after CRLF
/// line ends, and its offset may point at the line break before a record). Offsets only grow,
/// so each byte is counted once.
struct LineCounter<'a> {
    bytes: &'a [u8],
    counted_to: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            bytes: text.as_bytes(),
            counted_to: 0,
            line: 1,
        }
    }

    /// The line of the record csv says starts at `offset`.
    fn line_at(&mut self, offset: u64) -> u64 {
        let bytes = self.bytes;
        let mut offset = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .clamp(self.counted_to, bytes.len());
        while offset < bytes.len() && matches!(bytes[offset], b'\r' | b'\n') {
            offset += 1;
        }
        self.line += bytes[self.counted_to..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        self.counted_to = offset;
        self.line
    }
}

/// Reads the CSV rows (`email, organization, role`; an optional header row whose first field
/// is `email`). Lines that cannot be read are reported, not fatal; more than
/// [`IMPORT_MAX_ROWS`] rows is.
pub fn read_import(text: &str) -> Result<(Vec<ImportRow>, Vec<ImportRowError>), AppError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let (mut rows, mut errors) = (Vec::new(), Vec::new());
    let mut lines = LineCounter::new(text);
    let mut first = true;
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let line = error
                    .position()
                    .map_or(0, |position| lines.line_at(position.byte()));
                errors.push(ImportRowError {
                    line,
                    reason: format!("This line cannot be read as CSV: {error}"),
                });
                continue;
            }
        };
        let line = record
            .position()
            .map_or(0, |position| lines.line_at(position.byte()));
        let is_header = first
            && record
                .get(0)
                .is_some_and(|f| f.eq_ignore_ascii_case("email"));
        first = false;
        if is_header {
            continue;
        }
        if record.iter().all(str::is_empty) {
            continue;
        }
        if rows.len() + errors.len() >= IMPORT_MAX_ROWS {
            return Err(AppError::TooLarge(format!(
                "A legacy import takes at most {IMPORT_MAX_ROWS} rows: split the file."
            )));
        }
        if record.len() != 3 {
            errors.push(ImportRowError {
                line,
                reason: format!(
                    "Expected 3 columns (email, organization, role), found {}.",
                    record.len()
                ),
            });
            continue;
        }
        rows.push(ImportRow {
            line,
            email: record[0].to_owned(),
            organization: record[1].to_owned(),
            role: record[2].to_owned(),
        });
    }
    Ok((rows, errors))
}

/// The organizations an import row may name: by slug or by exact name, case-insensitive.
struct OrganizationIndex {
    by_slug: HashMap<String, usize>,
    /// Names shared by several organizations map to `None`: the slug must be used.
    by_name: HashMap<String, Option<usize>>,
    organizations: Vec<OrganizationRef>,
}

impl OrganizationIndex {
    /// Indexes `(id, name, slug)` rows.
    fn new(rows: Vec<(String, String, String)>) -> Self {
        let mut index = Self {
            by_slug: HashMap::new(),
            by_name: HashMap::new(),
            organizations: Vec::with_capacity(rows.len()),
        };
        for (position, (id, name, slug)) in rows.into_iter().enumerate() {
            index.by_slug.insert(slug.to_lowercase(), position);
            index
                .by_name
                .entry(name.to_lowercase())
                .and_modify(|found| *found = None)
                .or_insert(Some(position));
            index.organizations.push(OrganizationRef { id, name });
        }
        index
    }

    /// The position of the organization `key` names, or why none does.
    fn find(&self, key: &str) -> Result<usize, String> {
        let key = key.to_lowercase();
        if let Some(position) = self.by_slug.get(&key) {
            return Ok(*position);
        }
        match self.by_name.get(&key) {
            Some(Some(position)) => Ok(*position),
            Some(None) => Err(format!(
                "Several organizations are named \"{key}\": use the slug."
            )),
            None => Err(format!(
                "There is no organization \"{key}\" (by slug or name)."
            )),
        }
    }
}

/// A checked import row.
struct GoodRow {
    line: u64,
    email: EmailAddress,
    organization: usize,
    role: Role,
}

/// Checks every row: email shape, organization, role, and duplicates within the file.
fn check_import(
    rows: Vec<ImportRow>,
    organizations: &OrganizationIndex,
    errors: &mut Vec<ImportRowError>,
) -> Vec<GoodRow> {
    let mut seen: HashMap<(String, usize), u64> = HashMap::new();
    let mut good = Vec::new();
    for row in rows {
        let mut reasons = Vec::new();
        let email = EmailAddress::parse(&row.email)
            .map_err(|error| reasons.push(format!("Bad email \"{}\": {error}", row.email)))
            .ok();
        let organization = organizations
            .find(&row.organization)
            .map_err(|reason| reasons.push(reason))
            .ok();
        let role = Role::parse(&row.role.to_lowercase());
        if role.is_none() {
            reasons.push(format!(
                "Bad role \"{}\": use owner, admin or member.",
                row.role
            ));
        }
        if let (Some(email), Some(organization), Some(role)) = (email, organization, role) {
            let key = (email.as_str().to_owned(), organization);
            if let Some(first_line) = seen.get(&key) {
                reasons.push(format!(
                    "Duplicate in the file: line {first_line} already links {email} to {}.",
                    organizations.organizations[organization].name
                ));
            } else {
                seen.insert(key, row.line);
                good.push(GoodRow {
                    line: row.line,
                    email,
                    organization,
                    role,
                });
                continue;
            }
        }
        errors.push(ImportRowError {
            line: row.line,
            reason: reasons.join(" "),
        });
    }
    good
}

/// Checks `rows` against the organizations there are and applies the good ones as legacy links
/// of `staff_user_id` (no mail: verified accounts become members at once, other addresses get
/// a pending link), each in the audit log, then the import itself. `errors` are the lines
/// refused while reading. Returns the report and the accounts that joined an organization.
pub fn apply(
    conn: &mut AnyConnection,
    staff_user_id: &str,
    rows: Vec<ImportRow>,
    mut errors: Vec<ImportRowError>,
) -> Result<(ImportReport, Vec<String>), AppError> {
    let organizations: Vec<(String, String, String)> = organizations::table
        .select((organizations::id, organizations::name, organizations::slug))
        .load(conn)?;
    let index = OrganizationIndex::new(organizations);
    let good = check_import(rows, &index, &mut errors);
    errors.sort_by_key(|error| error.line);
    let actor = Actor::load(conn, staff_user_id, true)?;
    let now = crate::db::now().naive_utc();
    let mut report = ImportReport {
        applied: 0,
        linked_now: 0,
        pending: 0,
        already_linked: 0,
        errors: Vec::new(),
    };
    let mut linked_users = Vec::new();
    for row in good {
        let organization = &index.organizations[row.organization];
        report.applied += 1;
        let source = LinkSource::Legacy;
        let effect = link_address(
            conn,
            staff_user_id,
            organization,
            &row.email,
            row.role,
            source,
            now,
        )?;
        let linked = match effect {
            LinkEffect::AlreadyLinked => {
                report.already_linked += 1;
                continue;
            }
            LinkEffect::Linked(linked) => linked,
        };
        match &linked {
            Linked::Member { user_id, .. } => {
                report.linked_now += 1;
                linked_users.push(user_id.clone());
            }
            Linked::Pending { .. } => report.pending += 1,
        }
        let detail = format!(
            "{} (legacy import, line {})",
            link_detail(&linked),
            row.line
        );
        audit::record(
            conn,
            &actor,
            Some(organization.id.as_str()),
            "staff.link_created",
            detail,
        )?;
    }
    let detail = format!(
        "Legacy import: {} rows applied ({} linked now, {} pending, {} already linked), {} \
         lines refused",
        report.applied,
        report.linked_now,
        report.pending,
        report.already_linked,
        errors.len()
    );
    audit::record(conn, &actor, None, "staff.legacy_import", detail)?;
    report.errors = errors;
    Ok((report, linked_users))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> OrganizationIndex {
        OrganizationIndex::new(vec![
            ("1".into(), "Acme".into(), "acme".into()),
            ("2".into(), "Globex Corp".into(), "globex-corp".into()),
            ("3".into(), "Twin Co".into(), "twin-co".into()),
            ("4".into(), "Twin Co".into(), "twin-co-x7k2q9".into()),
        ])
    }

    #[test]
    fn the_header_row_is_optional_and_lines_are_counted_from_one() {
        let (rows, errors) = read_import("email,organization,role\na@x.com,Acme,owner\n").unwrap();
        assert!(errors.is_empty());
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].line, 2);
        let text = "\u{feff}a@x.com, acme , Admin\r\n\r\nb@x.com,acme,member\r\n\"x\ny\",acme\r\nc@x.com,acme,member";
        let (rows, errors) = read_import(text).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 4, "a quoted field may span lines");
        assert_eq!(rows[2].line, 6);
        assert_eq!(rows[0].line, 1);
        assert_eq!(rows[0].organization, "acme");
        assert_eq!(rows[1].line, 3);
    }

    #[test]
    fn rows_with_the_wrong_column_count_are_reported() {
        let (rows, errors) = read_import("a@x.com,Acme\nb@x.com,Acme,member,extra\n").unwrap();
        assert!(rows.is_empty());
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].line, 1);
        assert_eq!(errors[1].line, 2);
        assert!(errors[0].reason.contains("found 2"), "{}", errors[0].reason);
    }

    #[test]
    fn too_many_rows_are_refused_whole() {
        let text = "a@x.com,Acme,member\n".repeat(IMPORT_MAX_ROWS);
        assert!(read_import(&text).is_ok());
        let text = format!("{text}b@x.com,Acme,member\n");
        assert!(matches!(read_import(&text), Err(AppError::TooLarge(_))));
    }

    #[test]
    fn every_row_is_checked_with_its_reason() {
        let text = "a@x.com,ACME,Owner\n\
                    not-an-email,Acme,member\n\
                    b@x.com,Nowhere,member\n\
                    c@x.com,globex corp,boss\n\
                    A@X.com,acme,member\n\
                    d@x.com,Twin Co,member\n\
                    e@x.com,TWIN-CO-x7k2q9,admin\n";
        let (rows, mut errors) = read_import(text).unwrap();
        let good = check_import(rows, &index(), &mut errors);
        let good: Vec<(u64, &str, usize, Role)> = good
            .iter()
            .map(|row| (row.line, row.email.as_str(), row.organization, row.role))
            .collect();
        assert_eq!(
            good,
            vec![
                (1, "a@x.com", 0, Role::Owner),
                (7, "e@x.com", 3, Role::Admin)
            ]
        );
        let lines: Vec<u64> = errors.iter().map(|error| error.line).collect();
        assert_eq!(lines, vec![2, 3, 4, 5, 6]);
        assert!(errors[0].reason.starts_with("Bad email"));
        assert!(errors[1].reason.contains("no organization"));
        assert!(errors[2].reason.starts_with("Bad role"));
        assert!(errors[3].reason.contains("Duplicate in the file: line 1"));
        assert!(errors[4].reason.contains("use the slug"));
    }
}
