//! The bottom service: sends an attempt to the node the pool chose, on a pooled connection.

use std::sync::Arc;
use std::task::{Context, Poll};

use tower::Service;

use super::{BoxFuture, HttpRequest, HttpResponse};
use crate::Error;
use crate::conn::{self, Connector};
use crate::pool::Node;

/// Sends requests on persistent HTTP/1.1 connections (see the crate docs).
///
/// It needs the node chosen by the pool layer in the request's extensions, so it is only
/// useful at the bottom of the transport's own stack.
#[derive(Debug, Clone)]
pub struct HttpService {
    connector: Arc<Connector>,
}

impl HttpService {
    pub(crate) fn new(connector: Connector) -> Self {
        HttpService {
            connector: Arc::new(connector),
        }
    }
}

/// Request extension: the node chosen for this attempt (set by the pool layer).
#[derive(Debug, Clone)]
pub(crate) struct SelectedNode(pub(crate) Arc<Node>);

impl Service<HttpRequest> for HttpService {
    type Response = HttpResponse;
    type Error = Error;
    type Future = BoxFuture<Result<HttpResponse, Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: HttpRequest) -> Self::Future {
        let connector = self.connector.clone();
        Box::pin(async move {
            let Some(SelectedNode(node)) = req.extensions().get::<SelectedNode>().cloned() else {
                return Err(Error::config(
                    "no node chosen for the request (the pool layer is missing)",
                ));
            };
            conn::send(&connector, &node, req).await
        })
    }
}
