//! Reading manifests as `kubectl apply -f` takes them: files and
//! directories (their subdirectories too with `-R`), YAML streams of
//! several documents, JSON.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde::Deserialize;
use serde_json::Value;

/// One object of the files, and where it was written.
#[derive(Clone, Debug)]
pub struct Document {
    /// `file` or `file#n` for the n-th document of a stream (from 1).
    pub source: String,
    pub value: Value,
}

impl Document {
    pub fn api_version(&self) -> &str {
        self.value["apiVersion"].as_str().unwrap_or_default()
    }

    pub fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or_default()
    }
}

const EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// Every document of `paths`, in the order given, a directory's files
/// sorted by name; subdirectories only when `recursive`, as kubectl's `-R`.
pub fn read(paths: &[PathBuf], recursive: bool) -> anyhow::Result<Vec<Document>> {
    let mut documents = vec![];
    for path in paths {
        for file in files(path, recursive)? {
            documents.extend(parse(&file)?);
        }
    }
    Ok(documents)
}

fn files(path: &Path, recursive: bool) -> anyhow::Result<Vec<PathBuf>> {
    if !path.is_dir() {
        // A file named on the command line is read whatever its extension, as kubectl does.
        return Ok(vec![path.to_owned()]);
    }
    let real = path
        .canonicalize()
        .with_context(|| format!("resolving directory {}", path.display()))?;
    let mut found = vec![];
    let mut walk = Walk {
        top: path,
        real_top: &real,
        recursive,
        entered: vec![real.clone()],
    };
    walk.directory(path, &mut found)?;
    Ok(found)
}

/// A directory given to `-f`, read down. Its symlinks are followed only
/// while they stay inside it: a link out of the tree would read files no one
/// reviewing the tree sees.
struct Walk<'a> {
    top: &'a Path,
    real_top: &'a Path,
    recursive: bool,
    /// The real paths of the directories being read, outermost first: a
    /// symlink back to one of them would be read forever.
    entered: Vec<PathBuf>,
}

impl Walk<'_> {
    fn directory(&mut self, path: &Path, found: &mut Vec<PathBuf>) -> anyhow::Result<()> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("reading directory {}", path.display()))?
            .map(|entry| entry.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .with_context(|| format!("reading directory {}", path.display()))?;
        entries.sort();
        for entry in entries {
            let is_dir = entry.is_dir();
            let wanted = if is_dir {
                self.recursive
            } else {
                entry
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| EXTENSIONS.contains(&e))
            };
            if !wanted {
                continue;
            }
            let real = self.inside(&entry)?;
            if !is_dir {
                found.push(entry);
                continue;
            }
            if self.entered.contains(&real) {
                bail!(
                    "{} is a symlink to {}, which contains it, so -R would read it forever: remove the link",
                    entry.display(),
                    real.display()
                );
            }
            self.entered.push(real);
            self.directory(&entry, found)?;
            self.entered.pop();
        }
        Ok(())
    }

    /// The real path of `entry`, which must be in the tree.
    fn inside(&self, entry: &Path) -> anyhow::Result<PathBuf> {
        let real = entry
            .canonicalize()
            .with_context(|| format!("resolving {}", entry.display()))?;
        if !real.starts_with(self.real_top) {
            bail!(
                "{} is a symlink to {}, outside {} given to -f: copy {} into {} instead of linking to it",
                entry.display(),
                real.display(),
                self.top.display(),
                real.display(),
                self.top.display()
            );
        }
        Ok(real)
    }
}

fn parse(file: &Path) -> anyhow::Result<Vec<Document>> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let mut documents = vec![];
    // JSON is YAML too; one parser reads both, a stream document by document.
    for (i, document) in serde_yaml_ng::Deserializer::from_str(&text).enumerate() {
        let source = format!("{}#{}", file.display(), i + 1);
        let value = Value::deserialize(document).with_context(|| format!("parsing {source}"))?;
        match value {
            // An empty document, as between two `---`.
            Value::Null => {}
            Value::Object(_) if value.get("kind").is_some() => {
                // A `kind: List` holds its objects in `items`, as kubectl writes them.
                if value["kind"] == "List" {
                    for item in value["items"].as_array().into_iter().flatten() {
                        documents.push(Document {
                            source: source.clone(),
                            value: item.clone(),
                        });
                    }
                } else {
                    documents.push(Document { source, value });
                }
            }
            _ => bail!("{source}: not a Kubernetes object (no kind)"),
        }
    }
    Ok(documents)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    #[test]
    fn streams_directories_and_json_are_read_in_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        let nested = dir.path().join("b");
        std::fs::create_dir(&nested).expect("dir");
        std::fs::write(
            dir.path().join("a.yaml"),
            "kind: Namespace\nmetadata: {name: one}\n---\n---\nkind: Namespace\nmetadata: {name: two}\n",
        )
        .expect("write");
        std::fs::write(
            nested.join("c.json"),
            r#"{"kind": "Namespace", "metadata": {"name": "three"}}"#,
        )
        .expect("write");
        std::fs::write(dir.path().join("notes.txt"), "not a manifest").expect("write");
        let names = |recursive| -> Vec<String> {
            read(&[dir.path().to_owned()], recursive)
                .expect("read")
                .iter()
                .map(|d| d.value["metadata"]["name"].as_str().unwrap_or_default().to_owned())
                .collect()
        };
        assert_eq!(names(true), ["one", "two", "three"]);
        assert_eq!(names(false), ["one", "two"], "subdirectories only with -R");
    }

    #[test]
    fn a_document_that_is_no_object_is_refused_with_its_place() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("x.yaml");
        std::fs::write(&file, "kind: Namespace\nmetadata: {name: one}\n---\n- a list\n").expect("write");
        let error = read(&[file], false).unwrap_err().to_string();
        assert!(
            error.ends_with("x.yaml#2: not a Kubernetes object (no kind)"),
            "{error}"
        );
    }

    fn names(documents: &[Document]) -> Vec<String> {
        documents
            .iter()
            .map(|d| {
                format!(
                    "{} {}",
                    d.source,
                    d.value["metadata"]["name"].as_str().unwrap_or_default()
                )
            })
            .collect()
    }

    #[test]
    fn symlinks_inside_the_tree_are_followed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let top = dir.path();
        std::fs::create_dir(top.join("b")).expect("dir");
        std::fs::write(top.join("a.yaml"), "kind: Namespace\nmetadata: {name: one}\n").expect("write");
        std::fs::write(top.join("b/c.yaml"), "kind: Namespace\nmetadata: {name: two}\n").expect("write");
        symlink("a.yaml", top.join("z.yaml")).expect("link");
        symlink("b", top.join("linked")).expect("link");
        let documents = read(&[top.to_owned()], true).expect("read");
        let at = |file: &str| format!("{}#1", top.join(file).display());
        assert_eq!(
            names(&documents),
            [
                format!("{} one", at("a.yaml")),
                format!("{} two", at("b/c.yaml")),
                format!("{} two", at("linked/c.yaml")),
                format!("{} one", at("z.yaml")),
            ]
        );
    }

    #[test]
    fn a_symlink_out_of_the_tree_is_refused_with_the_link_and_its_target() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (top, outside) = (dir.path().join("manifests"), dir.path().join("elsewhere"));
        std::fs::create_dir(&top).expect("dir");
        std::fs::create_dir(&outside).expect("dir");
        std::fs::write(outside.join("secret.yaml"), "kind: Secret\nmetadata: {name: s}\n").expect("write");
        let real = outside.canonicalize().expect("real path");

        symlink(outside.join("secret.yaml"), top.join("secret.yaml")).expect("link");
        let error = read(std::slice::from_ref(&top), false).unwrap_err().to_string();
        assert_eq!(
            error,
            format!(
                "{link} is a symlink to {target}, outside {top} given to -f: copy {target} into {top} instead of linking to it",
                link = top.join("secret.yaml").display(),
                target = real.join("secret.yaml").display(),
                top = top.display(),
            )
        );

        std::fs::remove_file(top.join("secret.yaml")).expect("unlink");
        symlink("../elsewhere", top.join("shared")).expect("link");
        assert!(
            read(std::slice::from_ref(&top), false).expect("read").is_empty(),
            "a directory is not read without -R, wherever it links"
        );
        let error = read(std::slice::from_ref(&top), true).unwrap_err().to_string();
        assert!(
            error.starts_with(&format!(
                "{} is a symlink to {}, outside",
                top.join("shared").display(),
                real.display()
            )),
            "{error}"
        );
    }

    #[test]
    fn a_directory_symlink_loop_is_refused_rather_than_read_forever() {
        let dir = tempfile::tempdir().expect("temp dir");
        let top = dir.path();
        std::fs::create_dir(top.join("b")).expect("dir");
        std::fs::write(top.join("b/c.yaml"), "kind: Namespace\nmetadata: {name: two}\n").expect("write");
        symlink("..", top.join("b/up")).expect("link");
        let error = read(&[top.to_owned()], true).unwrap_err().to_string();
        assert_eq!(
            error,
            format!(
                "{} is a symlink to {}, which contains it, so -R would read it forever: remove the link",
                top.join("b/up").display(),
                top.canonicalize().expect("real path").display()
            )
        );
    }
}
