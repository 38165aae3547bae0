//! Dependency paths through a lockfile's graph.

use std::collections::{BTreeMap, VecDeque};

/// For each node reachable from `roots`, one shortest path from a root, as the list of nodes
/// *before* it (empty for a root itself). `edges` maps a node to the nodes it depends on.
/// Breadth-first, visiting children in sorted order, so the path is deterministic.
pub fn shortest_paths(
    roots: &[String],
    edges: &BTreeMap<String, Vec<String>>,
) -> BTreeMap<String, Vec<String>> {
    let mut paths: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut queue = VecDeque::new();
    let mut sorted_roots = roots.to_vec();
    sorted_roots.sort();
    for r in sorted_roots {
        if !paths.contains_key(&r) {
            paths.insert(r.clone(), Vec::new());
            queue.push_back(r);
        }
    }
    while let Some(node) = queue.pop_front() {
        let mut children = edges.get(&node).cloned().unwrap_or_default();
        children.sort();
        for child in children {
            if paths.contains_key(&child) {
                continue;
            }
            let mut p = paths.get(&node).cloned().unwrap_or_default();
            p.push(node.clone());
            paths.insert(child.clone(), p);
            queue.push_back(child);
        }
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortest_path_from_root() {
        let mut e = BTreeMap::new();
        e.insert(
            "app".to_string(),
            vec!["tokio".to_string(), "reqwest".to_string()],
        );
        e.insert("tokio".to_string(), vec!["mio".to_string()]);
        e.insert(
            "reqwest".to_string(),
            vec!["h2".to_string(), "tokio".to_string()],
        );
        e.insert("h2".to_string(), vec!["tokio".to_string()]);
        let p = shortest_paths(&["app".to_string()], &e);
        assert_eq!(p["app"], Vec::<String>::new());
        assert_eq!(p["tokio"], vec!["app"]);
        assert_eq!(p["h2"], vec!["app", "reqwest"]);
        assert_eq!(p["mio"], vec!["app", "tokio"]);
    }
}
