//! Field codes in standard responses: a response's subject and bodies are templates (minijinja
//! syntax: `{{ contact_name }}`) over a fixed set of field codes. A template is checked when the
//! response is saved (its syntax, every code it names, a trial rendering), so an unknown code or
//! a template error is refused then, never found while a customer waits.

use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};

/// Every field code, with what it holds.
pub const FIELD_CODES: &[(&str, &str)] = &[
    (
        "contact_name",
        "the customer's name, or their address when no name is known",
    ),
    ("contact_address", "the customer's e-mail address"),
    ("interaction_id", "the id of the customer's message"),
    (
        "thread_token",
        "the conversation's token as it stands in subjects, e.g. [#PR-7QK2M]",
    ),
    ("subject", "the subject of the customer's message"),
    (
        "agent_name",
        "the name of the agent answering (empty in automatic answers)",
    ),
    ("date", "today's date, YYYY-MM-DD"),
    (
        "received_at",
        "when the customer's message arrived, RFC 3339",
    ),
];

/// The values of the field codes for one answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields {
    pub contact_name: String,
    pub contact_address: String,
    pub interaction_id: String,
    pub thread_token: String,
    pub subject: String,
    pub agent_name: String,
    pub date: String,
    pub received_at: String,
}

impl Fields {
    fn value(&self) -> Value {
        Value::from(std::collections::BTreeMap::from([
            ("contact_name", self.contact_name.clone()),
            ("contact_address", self.contact_address.clone()),
            ("interaction_id", self.interaction_id.clone()),
            ("thread_token", self.thread_token.clone()),
            ("subject", self.subject.clone()),
            ("agent_name", self.agent_name.clone()),
            ("date", self.date.clone()),
            ("received_at", self.received_at.clone()),
        ]))
    }

    /// Values of the right shape, for the trial rendering at save time.
    fn sample() -> Fields {
        Fields {
            contact_name: "Ann Lee".into(),
            contact_address: "ann@example.com".into(),
            interaction_id: "0190f5b2-6c1e-7c3a-9d2e-5b7a1c9e0f11".into(),
            thread_token: "[#PR-7QK2M]".into(),
            subject: "Where is my order?".into(),
            agent_name: "Rita".into(),
            date: "2026-11-26".into(),
            received_at: "2026-11-26T09:00:00Z".into(),
        }
    }
}

/// What is wrong with a template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unknown field code {0:?} (known: {known})", known = known())]
    UnknownCode(String),
    #[error("{0}")]
    Invalid(String),
}

fn known() -> String {
    FIELD_CODES
        .iter()
        .map(|(c, _)| *c)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether text is plain or HTML (values are HTML-escaped in HTML).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Html,
}

fn environment(kind: Kind) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // A template is small: a bound on its work keeps a loop in one from stalling the sender.
    env.set_fuel(Some(50_000));
    env.set_auto_escape_callback(move |_| match kind {
        Kind::Html => AutoEscape::Html,
        Kind::Text => AutoEscape::None,
    });
    env
}

fn invalid(e: minijinja::Error) -> TemplateError {
    let mut text = e.to_string();
    if let Some(line) = e.line() {
        text = format!("line {line}: {text}");
    }
    TemplateError::Invalid(text.replace('\n', " "))
}

/// Checks a template as a response is saved.
pub fn check(source: &str, kind: Kind) -> Result<(), TemplateError> {
    let env = environment(kind);
    let template = env.template_from_str(source).map_err(invalid)?;
    let mut named: Vec<String> = template.undeclared_variables(false).into_iter().collect();
    named.sort();
    if let Some(unknown) = named
        .into_iter()
        .find(|n| !FIELD_CODES.iter().any(|(c, _)| c == n))
    {
        return Err(TemplateError::UnknownCode(unknown));
    }
    template
        .render(Fields::sample().value())
        .map(|_| ())
        .map_err(invalid)
}

/// Renders a checked template with an answer's values.
pub fn render(source: &str, kind: Kind, fields: &Fields) -> Result<String, TemplateError> {
    let env = environment(kind);
    let template = env.template_from_str(source).map_err(invalid)?;
    template.render(fields.value()).map_err(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_codes_fill_in_and_html_is_escaped() {
        let f = Fields {
            contact_name: "Ann <Lee>".into(),
            thread_token: "[#PR-7QK2M]".into(),
            subject: "Order".into(),
            ..Fields::default()
        };
        let text = "Dear {{ contact_name }},\nwe received \"{{ subject }}\". {{ thread_token }}";
        assert_eq!(check(text, Kind::Text), Ok(()));
        assert_eq!(
            render(text, Kind::Text, &f).unwrap(),
            "Dear Ann <Lee>,\nwe received \"Order\". [#PR-7QK2M]"
        );
        assert_eq!(
            render("<p>Dear {{ contact_name }}</p>", Kind::Html, &f).unwrap(),
            "<p>Dear Ann &lt;Lee&gt;</p>"
        );
        // Conditions and filters of the syntax work on the codes.
        let t = "{% if agent_name %}{{ agent_name }}{% else %}Your support team{% endif %}";
        assert_eq!(check(t, Kind::Text), Ok(()));
        assert_eq!(render(t, Kind::Text, &f).unwrap(), "Your support team");
    }

    #[test]
    fn unknown_codes_and_broken_templates_are_refused_at_save() {
        assert_eq!(
            check("Dear {{ customer_name }}", Kind::Text),
            Err(TemplateError::UnknownCode("customer_name".into()))
        );
        assert!(check("{% for x in contact_name %}{{ x.y.z }}", Kind::Text).is_err());
        assert!(matches!(
            check("Dear {{ contact_name ", Kind::Text),
            Err(TemplateError::Invalid(_))
        ));
        // An attribute that does not exist fails the trial rendering.
        assert!(check("{{ contact_name.first }}", Kind::Text).is_err());
        // A loop that runs away is stopped.
        assert!(check(
            "{% for a in range(1000) %}{% for b in range(1000) %}x{% endfor %}{% endfor %}",
            Kind::Text
        )
        .is_err());
    }
}
