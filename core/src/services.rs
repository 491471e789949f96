//! Wiring: the ports one deployment plugs in, and the services built on them.
//!
//! Every entry point (Lambda, local stack, tests) builds a [`Ports`] from its
//! adapters and calls [`Services::new`]; nothing else differs between them.

use std::sync::Arc;

use crate::activity::{Activity, Sketches};
use crate::auth::{
    Accounts, AuthPorts, AuthService, AuthSettings, Passwords, Randomness, RateLimits, Sessions,
};
use crate::ids::IdGenerator;
use crate::likes::{LikeService, Likes};
use crate::photos::{PhotoPorts, PhotoService};
use crate::ports::{Clock, Users};
use crate::users::UserService;

/// Everything the services need from the outside world.
#[derive(Clone)]
pub struct Ports {
    pub users: Arc<dyn Users>,
    pub likes: Arc<dyn Likes>,
    pub accounts: Arc<dyn Accounts>,
    pub sessions: Arc<dyn Sessions>,
    pub limits: Arc<dyn RateLimits>,
    /// Each day's sketch of its active users.
    pub sketches: Arc<dyn Sketches>,
    pub passwords: Arc<dyn Passwords>,
    pub random: Arc<dyn Randomness>,
    pub clock: Arc<dyn Clock>,
    pub photos: PhotoPorts,
}

/// The domain services of one instance.
pub struct Services {
    pub users: UserService,
    pub likes: LikeService,
    pub auth: AuthService,
    pub photos: PhotoService,
    /// The users this instance has seen today, for the daily active users.
    pub activity: Activity,
    pub clock: Arc<dyn Clock>,
}

impl Services {
    /// `node` distinguishes this instance's new ids from other instances'
    /// (see [`IdGenerator`]).
    pub fn new(ports: Ports, node: u16, settings: AuthSettings) -> Self {
        let auth = AuthService::new(
            AuthPorts {
                accounts: ports.accounts,
                sessions: ports.sessions,
                limits: ports.limits,
                passwords: ports.passwords,
                random: Arc::clone(&ports.random),
            },
            Arc::new(IdGenerator::new(node)),
            Arc::clone(&ports.clock),
            settings,
        );
        Self {
            likes: LikeService::new(
                ports.likes,
                Arc::clone(&ports.users),
                Arc::clone(&ports.clock),
            ),
            users: UserService::new(ports.users),
            auth,
            activity: Activity::new(ports.sketches, Arc::clone(&ports.clock)),
            photos: PhotoService::new(ports.photos, ports.random, Arc::clone(&ports.clock)),
            clock: ports.clock,
        }
    }
}
