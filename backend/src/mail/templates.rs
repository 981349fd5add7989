//! Every mail the portal sends, each a function of what it says: subject and body in one
//! place, tested without a server.

use stratus_shared::api::organizations::Role;
use stratus_shared::api::staff::Linked;

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
