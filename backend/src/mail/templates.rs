//! Every mail the portal sends, each a function of what it says: subject and body in one
//! place, tested without a server.

use stratus_shared::api::organizations::Role;
use stratus_shared::api::staff::Linked;

use super::Mail;

/// Invites an address to an organization. The same mail goes to every address, with or
/// without an account: it must not tell the inviter, or a reader of the mail, more.
pub fn invited_to_organization(to: &str, organization: &str, role: Role, public_url: &str) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: format!("You are invited to {organization} on Stratus"),
        body: format!(
            "You are invited to join {organization} on Stratus as {}.\n\n\
             Sign in at {public_url}/login with this address (or create an account with it at \
             {public_url}/signup), then accept the invitation on the home page. Nothing \
             changes until you do; if you do not know {organization}, ignore this mail or \
             decline the invitation.",
            role.label()
        ),
    }
}

/// The link of a mailed one-time token. The token rides in the fragment: browsers never send
/// it to the server or a proxy log.
fn token_link(public_url: &str, page: &str, token: &str) -> String {
    format!("{public_url}/{page}#token={token}")
}

/// Asks a new account's owner to verify the address (the link needs the password too).
pub fn verify_email(to: &str, public_url: &str, token: &str) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: "Verify your email address for Stratus".into(),
        body: format!(
            "Welcome to Stratus!\n\nTo finish creating your account, open this link and confirm with \
             your password:\n\n{}\n\nThe link works once and for 24 hours. If you did not create an \
             account, you can ignore this mail.",
            token_link(public_url, "verify-email", token)
        ),
    }
}

/// Tells the owner of an address that someone tried to sign up with it again.
pub fn already_have_account(to: &str, public_url: &str) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: "You already have a Stratus account".into(),
        body: format!(
            "Someone (probably you) tried to create a Stratus account with this address, \
             but it already has one.\n\nSign in at {public_url}/login. If you forgot your password, \
             choose a new one at {public_url}/forgot-password.\n\nIf this was not you, you can ignore this mail."
        ),
    }
}

/// The link to choose a new password.
pub fn reset_password(to: &str, public_url: &str, token: &str) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: "Choose a new Stratus password".into(),
        body: format!(
            "Someone (probably you) asked to choose a new password for your Stratus account.\n\n\
             Open this link to do so:\n\n{}\n\nThe link works once and for one hour. Choosing a \
             new password signs you out everywhere. If this was not you, ignore this mail: \
             your password stays as it is.",
            token_link(public_url, "reset-password", token)
        ),
    }
}

/// Asks the owner of an existing account to confirm linking a provider identity to it.
pub fn link_identity(to: &str, provider: &str, public_url: &str, token: &str) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: format!("Link {provider} to your Stratus account?"),
        body: format!(
            "Someone (probably you) signed in to Stratus with {provider} using this address, \
             which already has a Stratus account.\n\nTo link {provider} to your account, open \
             this link in the same browser within 30 minutes:\n\n{}\n\n\
             Or sign in there with your password. If this was not you, ignore this mail: nothing \
             is linked without you.",
            token_link(public_url, "link-identity", token)
        ),
    }
}

/// Tells a verified account that platform staff linked it to an organization.
pub fn linked_by_staff(to: &str, organization: &str, role: Role, public_url: &str) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: format!("You now belong to {organization} on Stratus"),
        body: format!(
            "Stratus staff linked your account to {organization} as {}.\n\n\
             Sign in at {public_url}/login to see its DataMiner Systems.",
            role.label()
        ),
    }
}

/// Tells an address (no verified account yet) that platform staff linked it to an
/// organization, and how to join.
pub fn invited_by_staff(to: &str, organization: &str, role: Role, public_url: &str) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: format!("You are invited to {organization} on Stratus"),
        body: format!(
            "Stratus staff linked this address to {organization} as {}.\n\n\
             Create your account with this address at {public_url}/signup (or sign in at \
             {public_url}/login if you have one): once the address is verified, you belong to \
             {organization}.",
            role.label()
        ),
    }
}

/// The mail about a staff link: [`linked_by_staff`] for a member, else [`invited_by_staff`].
pub fn staff_link(linked: &Linked, public_url: &str) -> Mail {
    match linked {
        Linked::Member { email, link, .. } => {
            linked_by_staff(email, &link.organization_name, link.role, public_url)
        }
        Linked::Pending { link } => {
            invited_by_staff(&link.email, &link.organization_name, link.role, public_url)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://portal.test";

    #[test]
    fn an_invitation_says_how_to_join() {
        let mail = invited_to_organization("bo@globex.test", "Globex", Role::Member, URL);
        assert_eq!(mail.subject, "You are invited to Globex on Stratus");
        assert!(mail.body.contains("as Member"), "{}", mail.body);
        assert!(mail.body.contains("https://portal.test/signup"));
        assert!(mail.body.contains("https://portal.test/login"));
        assert!(
            mail.body.contains("accept the invitation on the home page"),
            "{}",
            mail.body
        );
    }

    #[test]
    fn the_verification_mail_carries_its_token_in_the_fragment() {
        let mail = verify_email("ann@acme.test", URL, "sml_abc");
        assert_eq!(mail.to, "ann@acme.test");
        assert_eq!(mail.subject, "Verify your email address for Stratus");
        assert!(
            mail.body
                .contains("\n\nhttps://portal.test/verify-email#token=sml_abc\n\n"),
            "{}",
            mail.body
        );
        assert!(
            mail.body.contains("confirm with your password"),
            "{}",
            mail.body
        );
        assert!(mail.body.contains("for 24 hours"), "{}", mail.body);
    }

    #[test]
    fn a_second_sign_up_points_to_sign_in_and_password_reset() {
        let mail = already_have_account("ann@acme.test", URL);
        assert_eq!(mail.subject, "You already have a Stratus account");
        assert!(mail.body.contains("Sign in at https://portal.test/login."));
        assert!(mail
            .body
            .contains("choose a new one at https://portal.test/forgot-password."));
        assert!(!mail.body.contains("#token="), "{}", mail.body);
    }

    #[test]
    fn the_reset_mail_links_to_the_reset_page_for_an_hour() {
        let mail = reset_password("ann@acme.test", URL, "sml_xyz");
        assert_eq!(mail.subject, "Choose a new Stratus password");
        assert!(
            mail.body
                .contains("\n\nhttps://portal.test/reset-password#token=sml_xyz\n\n"),
            "{}",
            mail.body
        );
        assert!(mail.body.contains("for one hour"), "{}", mail.body);
        assert!(
            mail.body.contains("signs you out everywhere"),
            "{}",
            mail.body
        );
    }

    #[test]
    fn the_identity_link_mail_names_the_provider_and_the_browser_rule() {
        let mail = link_identity("ann@acme.test", "Test ID", URL, "sml_link");
        assert_eq!(mail.subject, "Link Test ID to your Stratus account?");
        assert!(
            mail.body.contains("with Test ID using this address"),
            "{}",
            mail.body
        );
        assert!(
            mail.body.contains("To link Test ID to your account"),
            "{}",
            mail.body
        );
        assert!(mail.body.contains("in the same browser within 30 minutes"));
        assert!(
            mail.body
                .contains("\n\nhttps://portal.test/link-identity#token=sml_link\n\n"),
            "{}",
            mail.body
        );
    }

    #[test]
    fn a_staff_link_of_a_verified_account_says_who_linked_it() {
        let mail = linked_by_staff("ann@acme.test", "Acme", Role::Owner, URL);
        assert_eq!(mail.to, "ann@acme.test");
        assert_eq!(mail.subject, "You now belong to Acme on Stratus");
        assert_eq!(
            mail.body,
            "Stratus staff linked your account to Acme as Owner.\n\n\
             Sign in at https://portal.test/login to see its DataMiner Systems."
        );
    }

    #[test]
    fn a_staff_link_of_an_address_says_how_to_join() {
        let mail = invited_by_staff("bo@globex.test", "Globex", Role::Admin, URL);
        assert_eq!(mail.to, "bo@globex.test");
        assert_eq!(mail.subject, "You are invited to Globex on Stratus");
        assert_eq!(
            mail.body,
            "Stratus staff linked this address to Globex as Admin.\n\n\
             Create your account with this address at https://portal.test/signup (or sign in \
             at https://portal.test/login if you have one): once the address is verified, you \
             belong to Globex."
        );
    }

    #[test]
    fn a_staff_link_mail_goes_to_the_linked_address() {
        use stratus_shared::api::staff::{LinkSource, PendingLink};
        let pending = Linked::Pending {
            link: PendingLink {
                id: "i".into(),
                email: "cy@initech.test".into(),
                organization_id: "o".into(),
                organization_name: "Initech".into(),
                role: Role::Member,
                source: LinkSource::Staff,
                created_at: chrono::DateTime::from_timestamp(0, 0).unwrap(),
            },
        };
        let mail = staff_link(&pending, URL);
        assert_eq!(mail.to, "cy@initech.test");
        assert_eq!(mail.subject, "You are invited to Initech on Stratus");
    }
}
