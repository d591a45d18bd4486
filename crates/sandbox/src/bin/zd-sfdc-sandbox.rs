//! `zd-sfdc-sandbox`: serves the simulated Salesforce and Zendesk APIs standalone.

fn main() {
    eprintln!("zd-sfdc-sandbox: the standalone server is not built yet");
    std::process::exit(2);
}
