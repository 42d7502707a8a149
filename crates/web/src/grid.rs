//! The "three cables on two computers" test at a glance: a case's attempts laid out as a
//! cable × computer grid, each cell coloured by what happened there.

/// One cell: the attempts made with one cable on one computer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GridCell {
    pub ok: u32,
    pub failed: u32,
    /// Distinct error codes of the failures, in order of first appearance.
    pub codes: Vec<i64>,
    /// Distinct failure stages, in order of first appearance.
    pub stages: Vec<String>,
}

impl GridCell {
    /// `none` (not tried), `ok`, `fail` or `mixed`: the CSS class of the cell.
    pub fn class(&self) -> &'static str {
        match (self.ok, self.failed) {
            (0, 0) => "none",
            (_, 0) => "ok",
            (0, _) => "fail",
            _ => "mixed",
        }
    }

    /// The cell in words: "not tried", "2 failed (4013, nand) · 1 worked".
    pub fn label(&self) -> String {
        if self.ok == 0 && self.failed == 0 {
            return "not tried".to_string();
        }
        let mut parts = Vec::new();
        if self.failed > 0 {
            let mut detail: Vec<String> = self.codes.iter().map(|c| c.to_string()).collect();
            detail.extend(self.stages.iter().cloned());
            let detail = if detail.is_empty() {
                String::new()
            } else {
                format!(" ({})", detail.join(", "))
            };
            parts.push(format!("{} failed{detail}", self.failed));
        }
        if self.ok > 0 {
            parts.push(format!("{} worked", self.ok));
        }
        parts.join(" · ")
    }
}

/// Rows are cables, columns computers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttemptGrid {
    pub computers: Vec<String>,
    pub cables: Vec<String>,
    /// `cells[row][column]`.
    pub cells: Vec<Vec<GridCell>>,
}

/// The label used for attempts that did not record their cable.
pub const NO_CABLE: &str = "cable not recorded";

impl AttemptGrid {
    pub fn new(attempts: &[store::Attempt]) -> AttemptGrid {
        let mut computers: Vec<String> = Vec::new();
        let mut cables: Vec<String> = Vec::new();
        for a in attempts {
            if !computers.contains(&a.computer) {
                computers.push(a.computer.clone());
            }
            let cable = a.cable.clone().unwrap_or_else(|| NO_CABLE.to_string());
            if !cables.contains(&cable) {
                cables.push(cable);
            }
        }
        let mut cells = vec![vec![GridCell::default(); computers.len()]; cables.len()];
        for a in attempts {
            let cable = a.cable.as_deref().unwrap_or(NO_CABLE);
            let (Some(r), Some(c)) = (
                cables.iter().position(|x| x == cable),
                computers.iter().position(|x| *x == a.computer),
            ) else {
                continue;
            };
            let cell = &mut cells[r][c];
            if a.interrupted {
                // Stopped by a person or a kill: says nothing about the cable or the computer.
                continue;
            }
            if a.ok {
                cell.ok += 1;
            } else {
                cell.failed += 1;
                if let Some(code) = a.error_code
                    && !cell.codes.contains(&code)
                {
                    cell.codes.push(code);
                }
                if let Some(s) = &a.stage
                    && !cell.stages.contains(s)
                {
                    cell.stages.push(s.clone());
                }
            }
        }
        AttemptGrid {
            computers,
            cables,
            cells,
        }
    }

    /// What the grid says, in one sentence.
    pub fn reading(&self) -> String {
        let cells: Vec<&GridCell> = self.cells.iter().flatten().collect();
        let tried: Vec<&&GridCell> = cells.iter().filter(|c| c.class() != "none").collect();
        if tried.is_empty() {
            return "No attempts recorded yet.".to_string();
        }
        let all_fail = tried.iter().all(|c| c.class() == "fail");
        let (nc, nk) = (self.computers.len(), self.cables.len());
        if all_fail && nc >= 2 && nk >= 2 {
            format!(
                "It failed with every one of {nk} cables on every one of {nc} computers tried: \
                 the cable and the computer are unlikely to be the cause; look at the device."
            )
        } else if all_fail {
            format!(
                "Every attempt failed, but only {nk} cable(s) on {nc} computer(s) were tried: \
                 try another cable and another computer to rule them out."
            )
        } else if tried.iter().all(|c| c.class() == "ok") {
            "Every attempt worked.".to_string()
        } else {
            "Some combinations worked and others failed: compare the red cells with the green \
             ones to find the cable or computer at fault."
                .to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(computer: &str, cable: Option<&str>, ok: bool, code: Option<i64>) -> store::Attempt {
        // Through serde, so fields the store adds later (with defaults) need no change here.
        serde_json::from_value(serde_json::json!({
            "id": 0, "case_id": 1, "at": 0, "computer": computer, "host_os": null,
            "app_version": null, "cable": cable, "port": null, "hub": false, "tool": null,
            "mode": null, "kind": null, "ok": ok, "error_code": code,
            "stage": if ok { None } else { Some("nand") }, "operation": null,
            "checkpoint": null, "progress": null, "log_sha256": null
        }))
        .expect("an attempt")
    }

    #[test]
    fn three_cables_on_two_computers_all_failing_points_at_the_device() {
        let mut v = Vec::new();
        for comp in ["mac", "pc"] {
            for cable in ["A", "B", "C"] {
                v.push(attempt(comp, Some(cable), false, Some(4013)));
            }
        }
        let g = AttemptGrid::new(&v);
        assert_eq!(g.computers, vec!["mac", "pc"]);
        assert_eq!(g.cables, vec!["A", "B", "C"]);
        assert!(g.cells.iter().flatten().all(|c| c.class() == "fail"));
        assert_eq!(g.cells[0][0].label(), "1 failed (4013, nand)");
        assert!(g.reading().contains("look at the device"));
    }

    #[test]
    fn mixed_cells_and_missing_cables() {
        let v = vec![
            attempt("mac", Some("A"), false, Some(9)),
            attempt("mac", Some("A"), true, None),
            attempt("pc", None, true, None),
        ];
        let g = AttemptGrid::new(&v);
        assert_eq!(g.cables, vec!["A".to_string(), NO_CABLE.to_string()]);
        assert_eq!(g.cells[0][0].class(), "mixed");
        assert_eq!(g.cells[0][1].class(), "none");
        assert_eq!(g.cells[1][1].class(), "ok");
        assert_eq!(g.cells[0][1].label(), "not tried");
        assert!(g.reading().contains("Some combinations worked"));
    }

    #[test]
    fn interrupted_attempts_do_not_colour_the_grid() {
        let mut stopped = attempt("mac", Some("A"), false, None);
        stopped.interrupted = true;
        let v = vec![stopped, attempt("pc", Some("A"), true, None)];
        let g = AttemptGrid::new(&v);
        let mac = g.computers.iter().position(|c| c == "mac").unwrap();
        assert_eq!(
            g.cells[0][mac].class(),
            "none",
            "a Ctrl-C is not a failed cable"
        );
        assert_eq!(g.reading(), "Every attempt worked.");
    }
}
