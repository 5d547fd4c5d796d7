// Placeholder: this module is built by its issue.
