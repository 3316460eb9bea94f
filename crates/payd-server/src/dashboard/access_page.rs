//! The HTML of the account and users pages (maud, escaped by construction): the account page
//! (second factor, password), the TOTP set-up with its QR code, the recovery codes shown once,
//! the login's code step, the users page with the invitations, a new invitation's link shown
//! once, and the page an invitee sets their password on. Layout only.

use chrono::{DateTime, Utc};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use payd_core::ids::AccountId;
use payd_core::secret::Secret;
use payd_core::user::{Role, User};
use payd_store::auth::{Invitation, UserEntry};

use super::page::Frame;
use crate::engine::access::{TotpSetup, TotpState};
use crate::engine::users::{MAX_PASSWORD, MIN_PASSWORD};
use crate::web::assets;

fn time(t: DateTime<Utc>) -> Markup {
    html! { time datetime=(t.to_rfc3339()) { (t.format("%Y-%m-%d %H:%M:%S")) } }
}

fn csrf(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// A page of its own (no session yet): the login's code step, an invitation.
fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex, nofollow";
                title { (title) " · payd" }
                link rel="icon" type="image/svg+xml" href=(assets::ICON.path());
                link rel="stylesheet" href=(assets::DASHBOARD_CSS.path());
            }
            body { main.login { div.card { (body) } } }
        }
    }
}

/// The account page: the second factor's state and forms, and changing the password.
pub fn account(frame: &Frame<'_>, totp: TotpState, note: Option<&str>) -> Markup {
    let u = frame.user;
    html! {
        h1 { "Your account" }
        @if let Some(n) = note { p.ok role="status" { (n) } }
        section.card aria-labelledby="who-title" {
            h2 #who-title { "You" }
            dl.facts {
                dt { "Email" } dd { (u.email) }
                dt { "Role" } dd { (u.role.as_str()) }
                @if let Some(a) = &u.account_id { dt { "Account" } dd.mono { (a) } }
            }
        }
        section.card aria-labelledby="totp-title" {
            h2 #totp-title { "Two-factor authentication" }
            @if totp.enabled {
                p #totp-state { "On: logging in asks for a code from your authenticator app after the password. "
                    (totp.recovery_left) " unused recovery code(s) left." }
                form method="post" action="/dashboard/account/totp/disable" {
                    (csrf(frame.csrf))
                    div.field {
                        label for="disable-password" { "Your password, to switch it off" }
                        input #disable-password type="password" name="password" autocomplete="current-password" required;
                    }
                    button.danger type="submit" { "Switch two-factor off" }
                }
            } @else {
                p #totp-state { "Off: logging in asks for the password only." }
                form method="post" action="/dashboard/account/totp/setup" {
                    (csrf(frame.csrf))
                    button type="submit" { "Set up two-factor authentication" }
                }
            }
        }
        section.card aria-labelledby="password-title" {
            h2 #password-title { "Change your password" }
            p { "Your other sessions end; this one stays. " (MIN_PASSWORD) " to " (MAX_PASSWORD) " characters." }
            form method="post" action="/dashboard/account/password" {
                (csrf(frame.csrf))
                div.field {
                    label for="current-password" { "Current password" }
                    input #current-password type="password" name="current" autocomplete="current-password" required;
                }
                div.field {
                    label for="new-password" { "New password" }
                    input #new-password type="password" name="new" autocomplete="new-password"
                        minlength=(MIN_PASSWORD) maxlength=(MAX_PASSWORD) required;
                }
                button type="submit" { "Change password" }
            }
        }
    }
}

/// The TOTP set-up: the secret as a QR code and as text, and the form for the first code.
pub fn totp_setup(frame: &Frame<'_>, setup: &TotpSetup, qr: Option<&str>, error: Option<&str>) -> Markup {
    html! {
        h1 { "Set up two-factor authentication" }
        section.card aria-labelledby="scan-title" {
            h2 #scan-title { "1. Add payd to your authenticator app" }
            @if let Some(svg) = qr { div.qr-box { (PreEscaped(svg)) } }
            p { "Scan the code, or enter this key by hand:" }
            p.mono #totp-secret { (setup.secret.expose()) }
            p { "Or open this address with the app:" }
            p.mono #totp-uri { (setup.uri.expose()) }
        }
        section.card aria-labelledby="confirm-title" {
            h2 #confirm-title { "2. Type the code the app shows" }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form method="post" action="/dashboard/account/totp/enable" {
                (csrf(frame.csrf))
                div.field {
                    label for="totp-code" { "Six-digit code" }
                    input #totp-code type="text" name="code" inputmode="numeric" autocomplete="one-time-code"
                        pattern="[0-9]{6}" maxlength="6" required;
                }
                button type="submit" { "Switch two-factor on" }
            }
        }
    }
}

/// The recovery codes, shown once when TOTP is switched on.
pub fn recovery_codes(codes: &[Secret]) -> Markup {
    html! {
        h1 { "Two-factor authentication is on" }
        section.card aria-labelledby="codes-title" {
            h2 #codes-title { "Your recovery codes" }
            p.banner role="note" { "payd shows these only now. Each one logs you in once instead of a code, if you lose your phone. Keep them somewhere safe." }
            ul #recovery-codes { @for c in codes { li.mono { (c.expose()) } } }
            p { a href="/dashboard/account" { "Back to your account" } }
        }
    }
}

/// The login's second step: the code (or a recovery code).
pub fn code_form(csrf_token: &str, error: Option<&str>) -> Markup {
    bare(
        "Two-factor code",
        html! {
            h1 { "Enter your code" }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form method="post" action="/dashboard/login/code" {
                (csrf(csrf_token))
                div.field {
                    label for="code" { "Code from your authenticator app, or a recovery code" }
                    input #code type="text" name="code" autocomplete="one-time-code" maxlength="32" required;
                }
                button type="submit" { "Log in" }
            }
            p { a href="/dashboard/login" { "Start again" } }
        },
    )
}

/// The users page: the users in reach, the pending invitations, the form for a new one.
pub fn users(
    frame: &Frame<'_>,
    entries: &[UserEntry],
    invitations: &[Invitation],
    accounts: &[AccountId],
    now: DateTime<Utc>,
) -> Markup {
    let me: &User = frame.user;
    let can_change = me.role.can_change();
    let everyone = me.role == Role::Operator;
    html! {
        h1 { "Users" }
        section.card aria-labelledby="users-title" {
            h2 #users-title { (entries.len()) " user(s)" }
            div.scroll tabindex="0" role="region" aria-label="Users table" { table {
                thead { tr {
                    th scope="col" { "Email" }
                    th scope="col" { "Role" }
                    @if everyone { th scope="col" { "Account" } }
                    th scope="col" { "Two-factor" }
                    th scope="col" { "Locked until" }
                    @if can_change { th scope="col" { "Change" } }
                } }
                tbody { @for e in entries { tr {
                    td { (e.user.email) }
                    td { (e.user.role.as_str()) }
                    @if everyone { td.mono { (e.user.account_id.as_ref().map(ToString::to_string).unwrap_or_default()) } }
                    td { @if e.totp_enabled { "on" } @else { "off" } }
                    td { @match e.user.locked_until.filter(|t| *t > now) { Some(t) => { (time(t)) }, None => { "–" }, } }
                    @if can_change { td { div.actions {
                        @if e.user.locked_at(now) {
                            form method="post" action={ "/dashboard/users/" (e.user.id) "/unlock" } {
                                (csrf(frame.csrf))
                                button.secondary type="submit" aria-label={ "Unlock " (e.user.email) } { "Unlock" }
                            }
                        }
                        // One's own role is changed by someone else; operators have none to change.
                        @if e.user.id != me.id && e.user.role != Role::Operator {
                            @let (to, label) = if e.user.role == Role::Admin { ("viewer", "Make viewer") } else { ("admin", "Make admin") };
                            form method="post" action={ "/dashboard/users/" (e.user.id) "/role" } {
                                (csrf(frame.csrf))
                                input type="hidden" name="role" value=(to);
                                button.secondary type="submit" aria-label={ (label) ": " (e.user.email) } { (label) }
                            }
                        }
                        @if e.user.id != me.id {
                            form method="post" action={ "/dashboard/users/" (e.user.id) "/reset" } {
                                (csrf(frame.csrf))
                                button.secondary type="submit" aria-label={ "Reset password: " (e.user.email) } { "Reset password" }
                            }
                            form method="post" action={ "/dashboard/users/" (e.user.id) "/remove" } {
                                (csrf(frame.csrf))
                                button.danger type="submit" aria-label={ "Remove " (e.user.email) } { "Remove" }
                            }
                        }
                    } } }
                } } }
            } }
        }
        section.card aria-labelledby="invitations-title" {
            h2 #invitations-title { (invitations.len()) " pending invitation(s)" }
            @if !invitations.is_empty() {
                div.scroll tabindex="0" role="region" aria-label="Invitations table" { table {
                    thead { tr {
                        th scope="col" { "Email" }
                        th scope="col" { "Role" }
                        @if everyone { th scope="col" { "Account" } }
                        th scope="col" { "Invited by" }
                        th scope="col" { "Expires" }
                        @if can_change { th scope="col" { "Change" } }
                    } }
                    tbody { @for i in invitations { tr {
                        td { (i.email) }
                        td { (i.role.as_str()) }
                        @if everyone { td.mono { (i.account_id.as_ref().map(ToString::to_string).unwrap_or_default()) } }
                        td { (i.invited_by) }
                        td.num { (time(i.expires_at)) }
                        @if can_change { td {
                            form method="post" action={ "/dashboard/invitations/" (i.id) "/revoke" } {
                                (csrf(frame.csrf))
                                button.danger type="submit" aria-label={ "Revoke the invitation of " (i.email) } { "Revoke" }
                            }
                        } }
                    } } }
                } }
            }
        }
        @if can_change {
            section.card aria-labelledby="invite-title" {
                h2 #invite-title { "Invite someone" }
                p { "payd sends no email: the next page shows a link to hand to them. It works once, for 7 days." }
                form.filters method="post" action="/dashboard/invitations" {
                    (csrf(frame.csrf))
                    div {
                        label for="invite-email" { "Email" }
                        input #invite-email type="email" name="email" required;
                    }
                    div {
                        label for="invite-role" { "Role" }
                        select #invite-role name="role" {
                            option value="viewer" { "viewer (looks only)" }
                            option value="admin" { "admin" }
                            @if everyone { option value="operator" { "operator (every account)" } }
                        }
                    }
                    @if everyone {
                        div {
                            label for="invite-account" { "Account (not for an operator)" }
                            select #invite-account name="account" {
                                option value="" { "–" }
                                @for a in accounts { option value=(a) { (a) } }
                            }
                        }
                    }
                    div.actions.wide { button type="submit" { "Create invitation" } }
                }
            }
        }
    }
}

/// A new invitation's link, shown once.
pub fn invitation_created(inv: &Invitation, link: &str) -> Markup {
    html! {
        h1 { "Invitation created" }
        section.card aria-labelledby="link-title" {
            h2 #link-title { "Hand this link to " (inv.email) }
            p.banner role="note" { "payd shows the link only now (it keeps a hash of it). It works once, until " (time(inv.expires_at)) " UTC." }
            p.mono #invitation-link { (link) }
            p { a href="/dashboard/users" { "Back to the users" } }
        }
    }
}

/// The page an invitee chooses their password on.
pub fn accept_form(csrf_token: &str, action: &str, inv: &Invitation, error: Option<&str>) -> Markup {
    bare(
        "Join payd",
        html! {
            h1 { "Join payd" }
            p { "You are invited by " (inv.invited_by) " as " strong { (inv.role.as_str()) } " with the email " strong { (inv.email) } "." }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form method="post" action=(action) {
                (csrf(csrf_token))
                input type="hidden" name="email" value=(inv.email) autocomplete="username";
                div.field {
                    label for="new-password" { "Choose a password (" (MIN_PASSWORD) " to " (MAX_PASSWORD) " characters)" }
                    input #new-password type="password" name="password" autocomplete="new-password"
                        minlength=(MIN_PASSWORD) maxlength=(MAX_PASSWORD) required;
                }
                button type="submit" { "Set password and log in" }
            }
        },
    )
}

/// A new password reset link, shown once.
pub fn reset_created(email: &str, link: &str, expires_at: DateTime<Utc>) -> Markup {
    html! {
        h1 { "Password reset link" }
        section.card aria-labelledby="reset-title" {
            h2 #reset-title { "Hand this link to " (email) }
            p.banner role="note" { "payd shows the link only now (it keeps a hash of it). It works once, until " (time(expires_at)) " UTC; a newer link replaces it. Using it ends every session of theirs." }
            p.mono #reset-link { (link) }
            p { a href="/dashboard/users" { "Back to the users" } }
        }
    }
}

/// The page a reset link opens: the user chooses a new password.
pub fn reset_form(csrf_token: &str, action: &str, user: &User, error: Option<&str>) -> Markup {
    bare(
        "Choose a new password",
        html! {
            h1 { "Choose a new password" }
            p { "For " strong { (user.email) } ". Every session of yours ends; then log in with the new password." }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form method="post" action=(action) {
                (csrf(csrf_token))
                input type="hidden" name="email" value=(user.email) autocomplete="username";
                div.field {
                    label for="new-password" { "New password (" (MIN_PASSWORD) " to " (MAX_PASSWORD) " characters)" }
                    input #new-password type="password" name="password" autocomplete="new-password"
                        minlength=(MIN_PASSWORD) maxlength=(MAX_PASSWORD) required;
                }
                button type="submit" { "Set password" }
            }
        },
    )
}
