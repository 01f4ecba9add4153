"""Who may do what: roles, credentials and the checks on them (DESIGN §9, issue 6 item 3)."""
