//! Every mail the portal sends, each a function of what it says: subject and body in one
//! place, tested without a server.

use stratus_shared::api::organizations::Role;

use super::Mail;

/// Tells someone added to an organization (a verified account) that they belong to it now.
pub fn added_to_organization(to: &str, organization: &str, role: Role, public_url: &str) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: format!("You now belong to {organization} on Stratus"),
        body: format!(
            "You were added to {organization} on Stratus as {}.\n\n\
             Sign in at {public_url}/login to see its DataMiner Systems.",
            role.label()
        ),
    }
}

/// Invites an address (no verified account yet) to an organization.
pub fn invited_to_organization(to: &str, organization: &str, role: Role, public_url: &str) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: format!("You are invited to {organization} on Stratus"),
        body: format!(
            "You are invited to join {organization} on Stratus as {}.\n\n\
             Create your account with this address at {public_url}/signup (or sign in at \
             {public_url}/login if you have one): once the address is verified, you belong to \
             {organization}.",
            role.label()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://portal.test";

    #[test]
    fn an_added_member_learns_the_organization_role_and_where_to_sign_in() {
        let mail = added_to_organization("ann@acme.test", "Acme", Role::Admin, URL);
        assert_eq!(mail.to, "ann@acme.test");
        assert_eq!(mail.subject, "You now belong to Acme on Stratus");
        assert!(
            mail.body.contains("to Acme on Stratus as Admin"),
            "{}",
            mail.body
        );
        assert!(mail.body.contains("https://portal.test/login"));
    }

    #[test]
    fn an_invitation_says_how_to_join() {
        let mail = invited_to_organization("bo@globex.test", "Globex", Role::Member, URL);
        assert_eq!(mail.subject, "You are invited to Globex on Stratus");
        assert!(mail.body.contains("as Member"), "{}", mail.body);
        assert!(mail.body.contains("https://portal.test/signup"));
        assert!(mail.body.contains("you belong to Globex."), "{}", mail.body);
    }
}
