//! RabbitMQ: the durable work queue of sync jobs and the durable
//! `data_source_status` queue, through `lapin`.
//!
//! Messages are persistent and published with confirms (a publish returns
//! once the broker has the message). Workers consume with a prefetch and
//! acknowledge a job only after its final status is published, so a worker
//! that dies leaves its job to be redelivered. A lost connection (a broker
//! restart) is re-established with exponential backoff.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use backon::{ExponentialBuilder, Retryable};
use connector_core::{CancellationToken, Error, ErrorKind, Result};
use futures::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};
use tokio::sync::Mutex;

use crate::engine::{Engine, JobOutcome, SyncJob};
use crate::pg::PgJobs;
use crate::queue::{Enqueued, JobQueue};
use crate::status::{STATUS_QUEUE, StatusMessage, StatusPublisher};

/// The default name of the work queue.
pub const WORK_QUEUE: &str = "connector_sync_jobs";

fn amqp_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Transient, format!("RabbitMQ: {what}: {e}"))
}

/// One connection and a confirming channel, re-opened when lost.
pub struct Amqp {
    url: String,
    work_queue: String,
    current: Mutex<Option<(Connection, Channel)>>,
}

impl std::fmt::Debug for Amqp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Amqp")
            .field("work_queue", &self.work_queue)
            .finish_non_exhaustive()
    }
}

fn backoff() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(200))
        .with_max_delay(Duration::from_secs(5))
        .with_max_times(40)
        .with_jitter()
}

impl Amqp {
    /// A broker at `url` (`amqp://user:password@host:5672/%2f`) with the work
    /// queue `work_queue`. Nothing is opened until first use.
    pub fn new(url: &str, work_queue: &str) -> Self {
        Self {
            url: url.to_string(),
            work_queue: work_queue.to_string(),
            current: Mutex::new(None),
        }
    }

    /// Open a connection and a channel with confirms; declare both queues.
    async fn open(&self) -> Result<(Connection, Channel)> {
        let properties = ConnectionProperties::default()
            .with_executor(tokio_executor_trait::Tokio::current())
            .with_reactor(tokio_reactor_trait::Tokio);
        let connection = Connection::connect(&self.url, properties)
            .await
            .map_err(|e| amqp_error("cannot connect", e))?;
        let channel = connection
            .create_channel()
            .await
            .map_err(|e| amqp_error("cannot open a channel", e))?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|e| amqp_error("cannot enable confirms", e))?;
        for queue in [self.work_queue.as_str(), STATUS_QUEUE] {
            channel
                .queue_declare(
                    queue,
                    QueueDeclareOptions {
                        durable: true,
                        ..QueueDeclareOptions::default()
                    },
                    FieldTable::default(),
                )
                .await
                .map_err(|e| amqp_error(&format!("cannot declare queue {queue}"), e))?;
        }
        Ok((connection, channel))
    }

    /// The shared channel, reconnecting (with backoff) when it is gone.
    pub async fn channel(&self) -> Result<Channel> {
        let mut current = self.current.lock().await;
        if let Some((connection, channel)) = current.as_ref()
            && connection.status().connected()
            && channel.status().connected()
        {
            return Ok(channel.clone());
        }
        *current = None;
        let opened = (|| self.open())
            .retry(backoff())
            .notify(|e, wait| tracing::warn!("{e}; retrying in {wait:?}"))
            .await?;
        let channel = opened.1.clone();
        *current = Some(opened);
        Ok(channel)
    }

    /// Drop the shared connection (after an error), so the next use reconnects.
    async fn reset(&self) {
        if let Some((connection, _)) = self.current.lock().await.take() {
            let _ = connection.close(0, "reconnecting").await;
        }
    }

    /// Publish `payload` persistently to `queue` and wait for the broker's
    /// confirm, reconnecting and retrying with backoff.
    pub async fn publish(&self, queue: &str, payload: &[u8]) -> Result<()> {
        (|| async {
            let channel = self.channel().await?;
            let result = async {
                let confirm = channel
                    .basic_publish(
                        "",
                        queue,
                        BasicPublishOptions::default(),
                        payload,
                        BasicProperties::default()
                            .with_delivery_mode(2)
                            .with_content_type("application/json".into()),
                    )
                    .await
                    .map_err(|e| amqp_error("publish", e))?
                    .await
                    .map_err(|e| amqp_error("publish confirm", e))?;
                if confirm.is_nack() {
                    return Err(amqp_error("publish", "the broker refused the message"));
                }
                Ok(())
            }
            .await;
            if result.is_err() {
                self.reset().await;
            }
            result
        })
        .retry(backoff())
        .notify(|e, wait| tracing::warn!("{e}; retrying in {wait:?}"))
        .await
    }

    /// Close the shared connection (before the process exits).
    pub async fn close(&self) {
        self.reset().await;
    }

    /// Whether a connection is open now.
    pub async fn is_connected(&self) -> bool {
        match self.current.lock().await.as_ref() {
            Some((connection, _)) => connection.status().connected(),
            None => false,
        }
    }

    /// The work queue's name.
    pub fn work_queue(&self) -> &str {
        &self.work_queue
    }
}

/// Status messages to the durable `data_source_status` queue.
#[derive(Debug, Clone)]
pub struct AmqpPublisher {
    amqp: Arc<Amqp>,
}

impl AmqpPublisher {
    /// Publish through `amqp`.
    pub fn new(amqp: Arc<Amqp>) -> Self {
        Self { amqp }
    }
}

#[async_trait]
impl StatusPublisher for AmqpPublisher {
    async fn publish(&self, message: &StatusMessage) -> Result<()> {
        self.amqp.publish(STATUS_QUEUE, &message.to_json()).await
    }
}

/// Jobs recorded in PostgreSQL (one active per connection) and published
/// to the work queue.
#[derive(Debug, Clone)]
pub struct AmqpQueue {
    amqp: Arc<Amqp>,
    jobs: PgJobs,
}

impl AmqpQueue {
    /// Queue on `amqp`, coalescing through `jobs`.
    pub fn new(amqp: Arc<Amqp>, jobs: PgJobs) -> Self {
        Self { amqp, jobs }
    }
}

#[async_trait]
impl JobQueue for AmqpQueue {
    async fn enqueue(&self, job: SyncJob) -> Result<Enqueued> {
        let claimed = self.jobs.claim(&job).await?;
        if let Enqueued::Queued(_) = claimed {
            let payload = serde_json::to_vec(&job)
                .map_err(|e| Error::new(ErrorKind::Other, "cannot encode a job").with_source(e))?;
            if let Err(e) = self.amqp.publish(self.amqp.work_queue(), &payload).await {
                self.jobs.unclaim(&job.job_id).await?;
                return Err(e);
            }
        }
        Ok(claimed)
    }

    async fn is_ready(&self) -> bool {
        self.amqp.channel().await.is_ok()
    }
}

/// Consume the work queue until `cancel` fires: up to `prefetch` jobs at a
/// time, each acknowledged after its final status is published. A job whose
/// status could not be published (or that was interrupted by shutdown) is
/// returned to the queue.
pub async fn run_worker(
    amqp: Arc<Amqp>,
    engine: Arc<Engine>,
    prefetch: u16,
    cancel: CancellationToken,
) -> Result<()> {
    // A consumer of its own: the publishing channel is shared and may be
    // reset by publishers.
    while !cancel.is_cancelled() {
        let opened = (|| amqp.open())
            .retry(backoff().with_max_times(usize::MAX))
            .notify(|e, wait| tracing::warn!("{e}; retrying in {wait:?}"))
            .when(|_| !cancel.is_cancelled());
        let (connection, channel) = tokio::select! {
            _ = cancel.cancelled() => break,
            opened = opened => opened?,
        };
        if let Err(e) = consume(&channel, &amqp, &engine, prefetch, &cancel).await {
            tracing::warn!("worker lost the broker: {e}; reconnecting");
        }
        let _ = connection.close(0, "worker stopping").await;
    }
    Ok(())
}

async fn consume(
    channel: &Channel,
    amqp: &Amqp,
    engine: &Arc<Engine>,
    prefetch: u16,
    cancel: &CancellationToken,
) -> Result<()> {
    channel
        .basic_qos(prefetch.max(1), BasicQosOptions::default())
        .await
        .map_err(|e| amqp_error("qos", e))?;
    let mut consumer = channel
        .basic_consume(
            amqp.work_queue(),
            "",
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(|e| amqp_error("consume", e))?;
    tracing::info!(queue = amqp.work_queue(), prefetch, "worker consuming");
    let mut running = tokio::task::JoinSet::new();
    loop {
        let delivery = tokio::select! {
            _ = cancel.cancelled() => break,
            Some(_) = running.join_next(), if !running.is_empty() => continue,
            delivery = consumer.next() => delivery,
        };
        let delivery = match delivery {
            Some(Ok(delivery)) => delivery,
            Some(Err(e)) => {
                detach(&mut running);
                return Err(amqp_error("delivery", e));
            }
            None => {
                detach(&mut running);
                return Err(amqp_error("consumer", "the broker closed the consumer"));
            }
        };
        let job: SyncJob = match serde_json::from_slice(&delivery.data) {
            Ok(job) => job,
            Err(e) => {
                tracing::error!("dropping an unreadable job message: {e}");
                let _ = delivery.ack(BasicAckOptions::default()).await;
                continue;
            }
        };
        let engine = Arc::clone(engine);
        running.spawn(async move {
            match engine.run_job(&job).await {
                Ok(outcome) => {
                    if let JobOutcome::Failed(e) = &outcome {
                        tracing::info!(job = %job.job_id, "job failed: {e}");
                    }
                    if let Err(e) = delivery.ack(BasicAckOptions::default()).await {
                        tracing::warn!(job = %job.job_id, "cannot acknowledge (it will be redelivered): {e}");
                    }
                }
                Err(e) => {
                    tracing::warn!(job = %job.job_id, "job returned to the queue: {e}");
                    let _ = delivery
                        .nack(BasicNackOptions {
                            requeue: true,
                            ..BasicNackOptions::default()
                        })
                        .await;
                }
            }
        });
    }
    // Shutting down: running syncs were cancelled with the engine; wait for
    // them to commit and hand their jobs back.
    while running.join_next().await.is_some() {}
    Ok(())
}

/// Jobs still running when the broker went away finish on their own: their
/// status goes out on a new connection, and a redelivered copy of the job
/// finds the connection locked and is folded into them.
fn detach(running: &mut tokio::task::JoinSet<()>) {
    running.detach_all();
}
