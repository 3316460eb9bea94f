//! The settings page's two smaller forms (maud, layout only): the assets a merchant offers at
//! checkout, as checkboxes grouped by network, and its profile (contact email, site URL).

use maud::{html, Markup};

/// One network's checkboxes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkGroup {
    /// The network's name for people (`Base`).
    pub name: String,
    /// Its id (`base`).
    pub id: String,
    /// Payable in test mode only (devnet stands in; the network is not configured).
    pub test_only: bool,
    /// `(token, ticked)`.
    pub tokens: Vec<(String, bool)>,
}

/// The two forms' values and the refusal of the one just posted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extras {
    /// The instance's assets, ticked as the merchant offers them.
    pub groups: Vec<NetworkGroup>,
    /// Why the assets were refused.
    pub assets_message: Option<String>,
    /// Contact email.
    pub email: String,
    /// Site URL.
    pub site_url: String,
    /// Why the profile was refused.
    pub profile_message: Option<String>,
}

/// The assets form and the profile form of `merchant`.
pub fn extras(merchant: &str, csrf: &str, x: &Extras, can_change: bool) -> Markup {
    html! {
        section.card aria-labelledby="assets-title" {
            h2 #assets-title { "Assets offered at checkout" }
            p.note {
                "The checkout offers only the ticked tokens, and every API refuses a new payment in another. "
                "A payment that already has its token keeps it. The settlement asset must stay ticked."
            }
            @if let Some(m) = &x.assets_message { p.error role="alert" { (m) } }
            form method="post" action={ "/dashboard/settings/" (merchant) "/assets" } {
                input type="hidden" name="csrf" value=(csrf);
                @for g in &x.groups {
                    fieldset {
                        legend {
                            (g.name) " " span.mono { "(" (g.id) ")" }
                            @if g.test_only { " · test mode only" }
                        }
                        div.actions {
                            @for (token, ticked) in &g.tokens {
                                label.check {
                                    input type="checkbox" name="asset" value={ (token) "/" (g.id) } checked[*ticked] disabled[!can_change];
                                    (token)
                                }
                            }
                        }
                    }
                }
                @if can_change {
                    div.actions { button type="submit" { "Save assets" } }
                }
            }
        }
        section.card aria-labelledby="profile-title" {
            h2 #profile-title { "Profile" }
            p.note { "Name and logo are set under checkout branding." }
            @if let Some(m) = &x.profile_message { p.error role="alert" { (m) } }
            form.filters method="post" action={ "/dashboard/settings/" (merchant) "/profile" } {
                input type="hidden" name="csrf" value=(csrf);
                // Full width like the URL: an address does not fit a 10rem column.
                div.wide {
                    label for="profile-email" { "Contact email" }
                    input #profile-email type="email" name="email" value=(x.email) disabled[!can_change] aria-describedby="profile-email-hint";
                    small.note #profile-email-hint { "blank: none" }
                }
                div.wide {
                    label for="profile-site" { "Site URL" }
                    input #profile-site type="url" name="site_url" value=(x.site_url) disabled[!can_change] aria-describedby="profile-site-hint";
                    small.note #profile-site-hint { "https://…; blank: none" }
                }
                @if can_change {
                    div.actions.wide { button type="submit" { "Save profile" } }
                }
            }
        }
    }
}
