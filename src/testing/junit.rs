//! JUnit XML for CI (`agentc test --junit FILE`): one test suite per file, one test case per
//! `test` block (class name: the file), a failure with its message and details.

use quick_junit::{NonSuccessKind, Report, SerializeError, TestCase, TestCaseStatus, TestSuite};
use std::time::Duration;

/// One test as the report shows it.
pub struct JunitCase {
    pub file: String,
    pub name: String,
    pub duration: Duration,
    /// The failure's one-line message and its details (where, expected, actual).
    pub failure: Option<(String, String)>,
    /// What the runtime did, as text (kept for failed tests).
    pub output: Option<String>,
}

/// The XML document, suites in the order their files first appear.
pub fn report(cases: &[JunitCase]) -> Result<String, SerializeError> {
    let mut suites: Vec<TestSuite> = Vec::new();
    for case in cases {
        let position = match suites.iter().position(|s| s.name.as_str() == case.file) {
            Some(position) => position,
            None => {
                suites.push(TestSuite::new(case.file.as_str()));
                suites.len() - 1
            }
        };
        suites[position].add_test_case(test_case(case));
    }
    let mut report = Report::new("agentc test");
    for mut suite in suites {
        let time = suite.test_cases.iter().filter_map(|c| c.time).sum();
        suite.set_time(time);
        report.add_test_suite(suite);
    }
    let total = cases.iter().map(|c| c.duration).sum();
    report.set_time(total);
    report.to_string()
}

fn test_case(case: &JunitCase) -> TestCase {
    let status = match &case.failure {
        None => TestCaseStatus::success(),
        Some((message, details)) => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(message.as_str());
            status.set_description(details.as_str());
            status
        }
    };
    let mut test_case = TestCase::new(case.name.as_str(), status);
    test_case.set_classname(case.file.as_str());
    test_case.set_time(case.duration);
    if let Some(output) = &case.output {
        test_case.set_system_out(output.as_str());
    }
    test_case
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_suite_per_file_with_failures() {
        let case = |file: &str, name: &str, failure: Option<(&str, &str)>| JunitCase {
            file: file.into(),
            name: name.into(),
            duration: Duration::from_millis(5),
            failure: failure.map(|(m, d)| (m.into(), d.into())),
            output: None,
        };
        let xml = report(&[
            case("a.agent", "one", None),
            case("b.agent", "two", Some(("`x` did not run", "a.agent:3:3"))),
            case("a.agent", "three <&>", None),
        ])
        .unwrap();
        assert_eq!(xml.matches("<testsuite ").count(), 2);
        let totals = xml
            .lines()
            .find(|l| l.contains("<testsuites"))
            .unwrap_or_default();
        assert!(totals.contains(r#"tests="3""#), "{xml}");
        assert!(totals.contains(r#"failures="1""#), "{xml}");
        assert!(xml.contains("three &lt;&amp;&gt;"), "{xml}");
        assert!(
            xml.contains(r#"<failure message="`x` did not run" type="#)
                || xml.contains(r#"message="`x` did not run""#),
            "{xml}"
        );
    }
}
