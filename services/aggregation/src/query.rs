//! Answers from the in-memory model: who belongs to a group on a day, and
//! the exact totals, figures and counts of agencies for any indicator or
//! data element over any of them, periods rolled up by each element's rule.

use chiso_domain::{
    AdminUnitCode, DataElement, Form, Indicator, PeriodCode, PeriodType,
    catalogue::{Aggregate as Total, Exact, PeriodRule, Ratio, Totals, ValueType},
    plan::TargetGroup,
};
use chrono::NaiveDate;

use crate::model::{Id, Model, slot};

/// What is asked for: an indicator or one data element.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    Indicator(&'a Indicator),
    Element(&'a DataElement),
}

/// Where the agencies come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Country,
    /// A People's Committee's subtree.
    Area(Id),
    Agency(Id),
}

/// The exact totals of one group and how complete they are.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    pub totals: Totals,
    /// Members with a value for any element the subject reads.
    pub reporting: u32,
    /// Members the forms holding those elements expected to report.
    pub expected: u32,
}

/// An answer's numbers, exact.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figures {
    pub numerator: Option<Exact>,
    pub denominator: Option<Exact>,
    /// sum(numerator) / sum(denominator) × factor; `None` when nothing counts.
    pub value: Option<Ratio>,
}

/// One element's values for a period: its own column, or else the columns
/// of finer periods rolled up by the element's rule.
struct Source<'a> {
    direct: Option<&'a [i64]>,
    /// For each finer period type, coarsest first, the columns of the
    /// periods inside the asked one, in order.
    finer: Vec<Vec<Option<&'a [i64]>>>,
    rule: PeriodRule,
    yes_no: bool,
}

impl Source<'_> {
    /// One agency's stored value for the period. An agency that reported
    /// the period itself is taken as it reported; otherwise the coarsest
    /// finer type it reported decides, so two forms never count twice.
    fn value(&self, agency: Id) -> Option<i128> {
        if let Some(v) = slot(self.direct, agency) {
            return Some(i128::from(v));
        }
        // The first finer type with any value decides.
        self.finer.iter().find_map(|columns| {
            let mut values = columns.iter().filter_map(|c| slot(*c, agency)).peekable();
            values.peek()?;
            Some(match (self.rule, self.yes_no) {
                (PeriodRule::Last, _) => {
                    i128::from(columns.iter().rev().find_map(|c| slot(*c, agency))?)
                }
                // Yes in any period is yes for the whole.
                (PeriodRule::Sum, true) => i128::from(values.max()?),
                (PeriodRule::Sum, false) => values.map(i128::from).sum(),
            })
        })
    }
}

/// What answers about the same elements and period share.
struct Prepared<'a> {
    elements: Vec<&'a DataElement>,
    period: PeriodCode,
    sources: Vec<Source<'a>>,
    forms: Vec<&'a Form>,
}

/// The query engine over one consistent view of the model.
pub struct Engine<'a> {
    pub model: &'a Model,
    pub forms: &'a [Form],
}

impl<'a> Engine<'a> {
    /// The agencies of a scope on `date` that belong to `group`.
    pub fn members(&self, scope: Scope, date: NaiveDate, group: Option<TargetGroup>) -> Vec<Id> {
        let tree = &self.model.tree;
        let all = match scope {
            Scope::Agency(id) => return vec![id],
            Scope::Area(root) => tree.subtree(root, date),
            Scope::Country => tree
                .roots_at(date)
                .into_iter()
                .flat_map(|r| tree.subtree(r, date))
                .collect(),
        };
        match group {
            None => all,
            Some(g) => all
                .into_iter()
                .filter(|id| {
                    tree.node(*id)
                        .class
                        .is_some_and(|(kind, level)| g.includes(kind, level))
                })
                .collect(),
        }
    }

    /// The area an administrative-unit code names on `date` (`None`: the country).
    pub fn scope_of(&self, area: Option<&AdminUnitCode>, date: NaiveDate) -> Option<Scope> {
        match area {
            None => Some(Scope::Country),
            Some(code) => self.model.tree.committee(code, date).map(Scope::Area),
        }
    }

    fn sources(&self, elements: &[&'a DataElement], period: &PeriodCode) -> Vec<Source<'a>> {
        let facts = &self.model.facts;
        elements
            .iter()
            .map(|e| Source {
                direct: facts.column(period, &e.code),
                finer: PeriodType::ALL
                    .iter()
                    .filter(|t| t.months() < period.period_type().months())
                    .map(|t| {
                        period
                            .children(*t)
                            .iter()
                            .map(|p| facts.column(p, &e.code))
                            .collect()
                    })
                    .collect(),
                rule: e.period_rule,
                yes_no: e.value_type == ValueType::YesNo,
            })
            .collect()
    }

    /// Totals of `elements` over `members` for `period`; with `comparable`
    /// each member also counts the agencies merged into it.
    pub fn answer(
        &self,
        elements: &[&'a DataElement],
        period: &PeriodCode,
        members: &[Id],
        comparable: bool,
    ) -> Answer {
        let prepared = self.prepare(elements, period);
        self.answer_prepared(&prepared, members, comparable)
    }

    /// Each member's own answer (a breakdown by agency, a ranking's
    /// inputs): the columns and forms are looked up once for all of them.
    pub fn answer_each(
        &self,
        elements: &[&'a DataElement],
        period: &PeriodCode,
        members: &[Id],
        comparable: bool,
    ) -> Vec<Answer> {
        let prepared = self.prepare(elements, period);
        members
            .iter()
            .map(|m| self.answer_prepared(&prepared, std::slice::from_ref(m), comparable))
            .collect()
    }

    fn prepare(&self, elements: &[&'a DataElement], period: &PeriodCode) -> Prepared<'a> {
        Prepared {
            elements: elements.to_vec(),
            period: *period,
            sources: self.sources(elements, period),
            forms: self.forms_holding(elements, period),
        }
    }

    fn answer_prepared(&self, prepared: &Prepared<'a>, members: &[Id], comparable: bool) -> Answer {
        let Prepared {
            elements,
            period,
            sources,
            forms,
        } = prepared;
        let mut sums: Vec<Total> = elements
            .iter()
            .map(|e| match e.value_type {
                ValueType::YesNo => Total::YesNo {
                    yes: 0,
                    answered: 0,
                },
                _ => Total::Sum(0),
            })
            .collect();
        let mut seen = vec![false; elements.len()];
        let mut reporting = 0;
        let mut expected = 0;
        let tree = &self.model.tree;
        for &member in members {
            let alone = [member];
            let merged;
            let contributors: &[Id] = if comparable {
                merged = tree.contributors(member);
                &merged
            } else {
                &alone
            };
            let mut reported = false;
            for (i, source) in sources.iter().enumerate() {
                for &c in contributors {
                    let Some(v) = source.value(c) else { continue };
                    reported = true;
                    seen[i] = true;
                    match &mut sums[i] {
                        Total::Sum(s) => *s += v,
                        Total::YesNo { yes, answered } => {
                            *yes += i64::from(v != 0);
                            *answered += 1;
                        }
                    }
                }
            }
            reporting += u32::from(reported);
            expected += u32::from(self.expected(forms, period, contributors));
        }
        let mut totals = Totals::new();
        for ((e, sum), seen) in elements.iter().zip(sums).zip(seen) {
            // An element nobody reported stays absent: an indicator reading
            // it has no value rather than a zero.
            if seen {
                totals.insert(e.code.clone(), sum);
            }
        }
        Answer {
            totals,
            reporting,
            expected,
        }
    }

    /// The forms that hold any of `elements` and cover (a part of) `period`:
    /// those whose reporters are expected to give the figures.
    fn forms_holding(&self, elements: &[&DataElement], period: &PeriodCode) -> Vec<&'a Form> {
        self.forms
            .iter()
            .filter(|form| {
                period.period_type().months() >= form.period_type.months()
                    && period
                        .children(form.period_type)
                        .iter()
                        .any(|p| form.covers(p))
                    && form
                        .elements()
                        .any(|fe| elements.iter().any(|e| e.code == fe.code))
            })
            .collect()
    }

    /// Whether one of `forms` expected a report for (a part of) `period`
    /// from the member: its kind is among the form's reporters and it (or,
    /// comparably, a predecessor) existed then.
    fn expected(&self, forms: &[&Form], period: &PeriodCode, contributors: &[Id]) -> bool {
        let tree = &self.model.tree;
        let member = tree.node(contributors[0]);
        let Some((kind, level)) = member.class else {
            return false;
        };
        forms
            .iter()
            .any(|form| form.expects(kind, level, &member.code))
            && contributors
                .iter()
                .any(|c| tree.node(*c).existed_between(period.start(), period.end()))
    }
}

/// The elements a subject reads, as the catalogue defines them; an indicator
/// reading a retired element still finds it.
pub fn elements_of<'c>(
    subject: Subject<'c>,
    catalogue: &'c chiso_domain::Catalogue,
) -> Vec<&'c DataElement> {
    match subject {
        Subject::Element(e) => vec![e],
        Subject::Indicator(i) => {
            let mut out: Vec<&DataElement> = Vec::new();
            for code in i.elements() {
                if let Some(e) = catalogue.element(code)
                    && !out.iter().any(|o| o.code == e.code)
                {
                    out.push(e);
                }
            }
            out
        }
    }
}

/// The figures of a subject over totals. An indicator: its numerator and
/// denominator expressions and sum/sum × factor; a count or decimal: its
/// sum; a yes/no element: agencies answering yes over agencies answering, in %.
pub fn figures(subject: Subject<'_>, answer: &Answer) -> Figures {
    let totals = &answer.totals;
    match subject {
        Subject::Indicator(i) => {
            let numerator = i.numerator.evaluate(totals).ok();
            let denominator = i.denominator.as_ref().and_then(|d| d.evaluate(totals).ok());
            let value = match i.evaluate(totals) {
                Ok(v) if answer.reporting > 0 => Some(v),
                _ => None,
            };
            Figures {
                numerator,
                denominator,
                value,
            }
        }
        Subject::Element(e) => match totals.get(&e.code) {
            None => Figures {
                numerator: None,
                denominator: None,
                value: None,
            },
            Some(Total::Sum(s)) => {
                let exact = Exact {
                    value: *s,
                    scale: e.value_type.scale(),
                };
                Figures {
                    numerator: Some(exact),
                    denominator: None,
                    value: Some(Ratio::from_exact(exact)),
                }
            }
            Some(Total::YesNo { yes, answered }) => Figures {
                numerator: Some(Exact {
                    value: i128::from(*yes),
                    scale: 0,
                }),
                denominator: Some(Exact {
                    value: i128::from(*answered),
                    scale: 0,
                }),
                value: Ratio::new(i128::from(*yes) * 100, i128::from(*answered)),
            },
        },
    }
}

/// An exact total as decimal text: "1234", "12.50".
pub fn exact_text(e: Exact) -> String {
    Ratio::from_exact(e).display(e.scale)
}

/// An exact total in whole units for the wire, `None` beyond 64 bits.
pub fn whole(e: Exact) -> Option<i64> {
    i64::try_from(e.value / 10i128.pow(u32::from(e.scale))).ok()
}

/// The subject's factor, decimals and unit, for display.
pub fn presentation(subject: Subject<'_>) -> (i64, u8, String) {
    match subject {
        Subject::Indicator(i) => (i.factor, i.decimals, i.unit.clone()),
        Subject::Element(e) if e.value_type == ValueType::YesNo => (100, 1, "%".to_owned()),
        Subject::Element(e) => (1, e.value_type.scale(), e.unit.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(
        direct: Option<&[i64]>,
        finer: Vec<Vec<Option<&[i64]>>>,
        rule: PeriodRule,
    ) -> Source<'static> {
        // Leaked for the test's 'static: a few bytes.
        let leak = |c: Option<&[i64]>| c.map(|c| &*Box::leak(c.to_vec().into_boxed_slice()));
        Source {
            direct: leak(direct),
            finer: finer
                .into_iter()
                .map(|cols| cols.into_iter().map(leak).collect())
                .collect(),
            rule,
            yes_no: false,
        }
    }

    const E: i64 = i64::MIN;

    #[test]
    fn finer_periods_roll_up_by_the_elements_rule() {
        // Agency 0 reported the quarter itself; agency 1 only its months
        // (two of three); agency 2 a half-year is not asked here.
        let quarter: &[i64] = &[7, E];
        let months: Vec<Option<&[i64]>> = vec![Some(&[1, 10]), None, Some(&[2, 30])];
        let sum = source(Some(quarter), vec![months.clone()], PeriodRule::Sum);
        assert_eq!(sum.value(0), Some(7));
        assert_eq!(sum.value(1), Some(40));
        assert_eq!(sum.value(2), None);
        let last = source(Some(quarter), vec![months.clone()], PeriodRule::Last);
        assert_eq!(last.value(1), Some(30));
        // A coarser finer type with nothing for the agency gives way to the next.
        let empty: Vec<Option<&[i64]>> = vec![Some(&[E, E])];
        let both = source(None, vec![empty, months], PeriodRule::Sum);
        assert_eq!(both.value(1), Some(40));
    }
}
