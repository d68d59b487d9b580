//! `dep-gateway tokens`: every DEP and VPP token of a tenant (or of all tenants) with its expiry,
//! last sync, last error and device count, as a table or JSON, for people and for cron or a
//! monitoring check. Exit codes: 0 all fine (some may be expiring), 2 at least one token is
//! expired or failing, 1 the report could not be made.

use std::fmt::Write;
use std::process::ExitCode;

use anyhow::Context;

use crate::config::Settings;
use crate::domain::ids::TenantId;
use crate::service::token_health::{TokenLine, report_in_database};

/// The exit code when some token is expired or failing.
pub const EXIT_ATTENTION: u8 = 2;

/// Prints the report and says how to exit.
pub async fn run(
    settings: &Settings,
    tenant: Option<TenantId>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let lines = report_in_database(
        &settings.database_url(),
        &settings.token_warnings,
        tenant,
        &crate::clock::SystemClock,
    )
    .await
    .map_err(anyhow::Error::from)
    .context("reading the tokens")?;
    if json {
        println!("{}", serde_json::to_string_pretty(&lines)?);
    } else {
        print!("{}", table(&lines));
    }
    Ok(if lines.iter().any(|l| l.status.is_bad()) {
        ExitCode::from(EXIT_ATTENTION)
    } else {
        ExitCode::SUCCESS
    })
}

/// The lines as an aligned text table.
pub fn table(lines: &[TokenLine]) -> String {
    let header = [
        "KIND",
        "TENANT",
        "ID",
        "NAME",
        "EXPIRES",
        "DAYS",
        "LAST SYNC",
        "LAST ERROR",
        "DEVICES",
        "STATUS",
    ];
    let rows: Vec<[String; 10]> = lines
        .iter()
        .map(|l| {
            [
                l.kind.to_owned(),
                l.tenant_id.clone(),
                l.id.clone(),
                l.name.clone().unwrap_or_default(),
                l.expiration_date_time.chars().take(19).collect(),
                l.days_to_expiry.to_string(),
                l.last_sync_date_time
                    .as_deref()
                    .map_or_else(|| "never".to_owned(), |t| t.chars().take(19).collect()),
                l.last_error.clone(),
                l.device_count
                    .map_or_else(|| "-".to_owned(), |n| n.to_string()),
                l.status.as_str().to_owned(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[&str]| {
        let text: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", text.join("  ").trim_end());
    };
    line(&header);
    for row in &rows {
        line(&row.each_ref().map(String::as_str));
    }
    if rows.is_empty() {
        out.push_str("(no tokens)\n");
    }
    out
}
