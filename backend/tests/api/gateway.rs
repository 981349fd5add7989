use crate::helpers::spawn_app as _;
