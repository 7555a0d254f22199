//! An HPA's `spec.behavior`, with the API's defaults filled in where a field
//! is absent (the documentation's "Default Behavior"; k8s.io/api
//! autoscaling/v2 SetDefaults_HorizontalPodAutoscalerBehavior):
//! scale up at once by at most 4 pods or 100 % per 15 s, whichever is more;
//! scale down after a 300 s stabilization window, by up to 100 % per 15 s.

/// How a policy limits a change within its period.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PolicyKind {
    Pods,
    Percent,
}

/// One `policies` entry.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Policy {
    pub kind: PolicyKind,
    pub value: u32,
    pub period_seconds: f64,
}

/// `selectPolicy`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Select {
    /// The policy allowing the largest change (the default).
    Max,
    Min,
    /// No scaling in this direction.
    Disabled,
}

/// `scaleUp` or `scaleDown`.
#[derive(Clone, Debug, PartialEq)]
pub struct Rules {
    pub stabilization_seconds: f64,
    pub select: Select,
    pub policies: Vec<Policy>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Behavior {
    pub scale_up: Rules,
    pub scale_down: Rules,
}

impl Rules {
    pub fn default_scale_up() -> Rules {
        Rules {
            stabilization_seconds: 0.0,
            select: Select::Max,
            policies: vec![
                Policy {
                    kind: PolicyKind::Pods,
                    value: 4,
                    period_seconds: 15.0,
                },
                Policy {
                    kind: PolicyKind::Percent,
                    value: 100,
                    period_seconds: 15.0,
                },
            ],
        }
    }

    pub fn default_scale_down() -> Rules {
        Rules {
            stabilization_seconds: 300.0,
            select: Select::Max,
            policies: vec![Policy {
                kind: PolicyKind::Percent,
                value: 100,
                period_seconds: 15.0,
            }],
        }
    }

    /// Every duration times `factor` (the lab's time scale).
    pub fn scaled(&self, factor: f64) -> Rules {
        Rules {
            stabilization_seconds: self.stabilization_seconds * factor,
            select: self.select,
            policies: self
                .policies
                .iter()
                .map(|p| Policy {
                    period_seconds: p.period_seconds * factor,
                    ..*p
                })
                .collect(),
        }
    }
}

impl Default for Behavior {
    fn default() -> Behavior {
        Behavior {
            scale_up: Rules::default_scale_up(),
            scale_down: Rules::default_scale_down(),
        }
    }
}
