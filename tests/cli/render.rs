//! The rendered compose file (`compose-file`), against compose's own `config`, on the shapes
//! real projects have: `${PWD}`, built images, external networks, fixed IPv6 subnets, a compose
//! file in a subdirectory, ports from variables used elsewhere too, override files, an ignored
//! `.env`, values YAML 1.1 reads as dates or numbers, and a moved sandbox. No engine needed.

use std::path::Path;

use crate::common::TestEnv;

fn compose_runs() -> bool {
    let ok = std::process::Command::new("docker-compose")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        crate::common::skip("render::*", "docker-compose is not installed");
    }
    ok
}

fn project(t: &TestEnv, files: &[(&str, &str)]) {
    for (path, text) in files {
        t.write(&t.repo, path, text);
    }
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "project"]);
}

fn rendered(t: &TestEnv, dir: &Path, name: &str) -> serde_json::Value {
    let text = t.ok(dir, &["compose-file", name]);
    let body: String = text.lines().filter(|l| !l.starts_with('#')).collect();
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn paths_images_networks_and_subnets_are_the_sandboxs_own() {
    if !compose_runs() {
        return;
    }
    let t = TestEnv::new();
    project(
        &t,
        &[
            (".sandbox.toml", "[ports]\nweb = 23600\n"),
            (
                "compose.yaml",
                "services:\n  web:\n    build: .\n    image: shop-app:latest\n    container_name: shop-db\n    ports: [\"23600:8080\"]\n    volumes: [\"${PWD}/data:/data\"]\n    networks:\n      ext: {ipv4_address: 172.29.77.10}\n      back: {}\nnetworks:\n  ext: {external: true}\n  back:\n    enable_ipv6: true\n    ipam:\n      config:\n        - subnet: 172.30.9.0/24\n        - subnet: \"fd00:dead:beef::/64\"\n",
            ),
        ],
    );
    let s = t.new_sandbox("a");
    // Asked from the main checkout: ${PWD} is still the sandbox's project directory.
    let m = rendered(&t, &t.repo, "a");
    let web = &m["services"]["web"];
    let volume = web["volumes"][0].to_string();
    assert!(
        volume.contains(&format!("{}/data", s.display())),
        "{volume}"
    );
    assert!(web["image"].is_null(), "a built image is not tagged: {web}");
    assert_eq!(web["ports"][0], "23601:8080");
    assert_eq!(web["networks"]["back"]["aliases"][0], "shop-db");
    assert!(web["networks"]["ext"]["aliases"].is_null(), "{web}");
    assert!(web["networks"]["ext"]["ipv4_address"].is_null(), "{web}");
    let subnets = m["networks"]["back"]["ipam"]["config"].to_string();
    assert!(
        subnets.contains("\"subnet\":\"fd") && !subnets.contains("dead:beef"),
        "{subnets}"
    );
    assert!(!subnets.contains("172.30.9"), "{subnets}");
}

#[test]
fn a_subdirectory_project_its_ignored_env_and_its_port_variables() {
    if !compose_runs() {
        return;
    }
    let t = TestEnv::new();
    project(
        &t,
        &[
            (".gitignore", ".env\n"),
            (
                ".sandbox.toml",
                "[ports]\nweb = 23800\n[compose]\nfile = \"deploy/docker-compose.yml\"\n",
            ),
            (
                "deploy/docker-compose.yml",
                "services:\n  web:\n    image: x\n    ports: [\"${PORT}:8080\"]\n    volumes: [\"./data:/data\"]\n    environment:\n      PUBLIC_URL: http://localhost:${PORT}\n      GREETING: ${GREETING:?set GREETING in .env}\n      WHEN: \"2023-10-16\"\n      BITS: \"0b101\"\n      BIG: \"1_000\"\n",
            ),
        ],
    );
    // Only in the main checkout, ignored: sandboxes read it from there.
    t.write(&t.repo, "deploy/.env", "PORT=23800\nGREETING=hello\n");
    let s = t.new_sandbox("a");
    let m = rendered(&t, &t.repo, "a");
    let web = &m["services"]["web"];
    assert_eq!(web["ports"][0], "23801:8080");
    assert_eq!(web["environment"]["PUBLIC_URL"], "http://localhost:23801");
    assert_eq!(web["environment"]["GREETING"], "hello");
    assert!(
        web["volumes"][0]
            .to_string()
            .contains(&format!("{}/deploy/data", s.display())),
        "{web}"
    );
    for (k, v) in [("WHEN", "2023-10-16"), ("BITS", "0b101"), ("BIG", "1_000")] {
        assert_eq!(web["environment"][k], v, "{web}");
    }
    // And compose reads the rendered file back with those values as written.
    let out = t.ok(&s, &["compose", "--", "config"]);
    assert!(
        out.contains("2023-10-16") && out.contains("0b101") && out.contains("1_000"),
        "{out}"
    );
}

#[test]
fn override_files_by_any_name_and_a_moved_sandbox_render_again() {
    if !compose_runs() {
        return;
    }
    let t = TestEnv::new();
    project(
        &t,
        &[
            (".sandbox.toml", "[ports]\nweb = 23900\nextra = 23950\n"),
            (
                "compose.yml",
                "services:\n  web:\n    image: x\n    ports: [\"23900:80\"]\n    volumes: [\"./data:/data\"]\n",
            ),
            (
                "docker-compose.override.yml",
                "services:\n  extra:\n    image: x\n    ports: [\"23950:80\"]\n",
            ),
        ],
    );
    let a = t.new_sandbox("a");
    let m = rendered(&t, &t.repo, "a");
    assert_eq!(m["services"]["extra"]["ports"][0], "23951:80", "{m}");
    // Moved, its rendered file holds the new directory's paths, not the old one's.
    let b = std::path::PathBuf::from(t.ok(&t.repo, &["mv", "a", "b"]).trim());
    let text = std::fs::read_to_string(b.join(".sandbox/compose.yml")).expect("rendered");
    assert!(text.contains(&format!("{}/data", b.display())), "{text}");
    assert!(!text.contains(&format!("{}/", a.display())), "{text}");
}

#[test]
fn a_plan_port_on_the_compose_files_own_port_is_refused_and_init_never_writes_one() {
    let t = TestEnv::new();
    t.write(
        &t.repo,
        ".sandbox.toml",
        "[ports]\na = 23700\nb = { base = 23711, published = 23701 }\n",
    );
    let err = t.fails(&t.repo, &["ports"], 1);
    assert!(
        err.contains("slot 1's a would be port 23701, which the compose file publishes for b"),
        "{err}"
    );
    std::fs::remove_file(t.repo.join(".sandbox.toml")).expect("rm");
    t.write(
        &t.repo,
        "compose.yaml",
        "services:\n  a:\n    image: x\n    ports: [\"23700:8080\"]\n  b:\n    image: x\n    ports: [\"23701:8080\"]\n",
    );
    t.ok(&t.repo, &["init"]);
    let plan: serde_json::Value =
        serde_json::from_str(&t.ok(&t.repo, &["ports", "--json"])).expect("json");
    for slot in plan["slots"].as_array().expect("slots").iter().skip(1) {
        for p in slot["ports"].as_array().expect("ports") {
            let port = p["port"].as_u64().expect("port");
            assert!(![23700, 23701].contains(&port), "{plan}");
        }
    }
}

#[test]
fn literal_ports_are_the_main_checkouts_and_anchored_port_variables_follow_the_slot() {
    if !compose_runs() {
        return;
    }
    let t = TestEnv::new();
    project(
        &t,
        &[
            (".sandbox.toml", "[ports]\nweb = 30300\napp = 30500\n"),
            (
                "compose.yaml",
                "x-app: &app\n  image: x\n  ports: [\"${APP_PORT:-30500}:8080\"]\n  environment:\n    PUBLIC_URL: http://localhost:${APP_PORT:-30500}/\nservices:\n  web:\n    image: x\n    ports: [\"30300:8080\"]\n  metrics:\n    image: x\n    ports: [\"30301:8080\"]\n  app:\n    <<: *app\n",
            ),
        ],
    );
    t.new_sandbox("a");
    let m = rendered(&t, &t.repo, "a");
    let s = &m["services"];
    assert_eq!(s["web"]["ports"][0], "30301:8080");
    // metrics' 30301 is the main checkout's own port, not this slot's: compose picks one.
    assert_eq!(s["metrics"]["ports"][0], "8080", "{m}");
    assert_eq!(s["app"]["ports"][0], "30501:8080");
    assert_eq!(
        s["app"]["environment"]["PUBLIC_URL"],
        "http://localhost:30501/"
    );
}

#[test]
fn repeated_merge_keys_are_read_and_an_unreadable_file_is_said_not_called_fine() {
    let t = TestEnv::new();
    // docker-compose 1.29 accepts two `<<` keys in one mapping (the later wins).
    t.write(
        &t.repo,
        "compose.yaml",
        "x-a: &a {image: a, ports: [\"23790:80\"]}\nx-b: &b {image: b}\nservices:\n  web:\n    <<: *a\n    <<: *b\n",
    );
    let out = t.run(&t.repo, &["init"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(!said.contains("could not be read"), "{said}");
    assert!(said.contains("needs no edit"), "{said}");
    let plan: serde_json::Value =
        serde_json::from_str(&t.ok(&t.repo, &["ports", "--json"])).expect("json");
    assert!(plan.to_string().contains("web"), "the merged port: {plan}");
    std::fs::remove_file(t.repo.join(".sandbox.toml")).expect("rm");
    t.write(
        &t.repo,
        "compose.yaml",
        "services:\n  web:\n    image: a\n    image: b\n",
    );
    let out = t.run(&t.repo, &["init"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("could not be read"), "{said}");
    assert!(!said.contains("needs no edit"), "{said}");
}
