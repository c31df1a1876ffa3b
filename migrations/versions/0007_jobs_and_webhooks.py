"""Asynchronous jobs and their webhook deliveries.

jobs: one row per `Prefer: respond-async` request (state, step, attempts, final answer).
webhook_deliveries / webhook_attempts: each job-end message and every HTTP attempt to send it.
api_keys: the key's Standard Webhooks secret (encrypted) and default callback URL.
generation_logs: job_id (the job an operation ran for) and evaluation_id (candidate_scoring).

Revision ID: 0007_jobs_and_webhooks
Revises: 0006_claude_effort
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0007_jobs_and_webhooks'
down_revision = '0006_claude_effort'
branch_labels = None
depends_on = None


def _datetime():
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql').with_variant(mysql.DATETIME(fsp=6), 'mariadb')


def _long_text():
    return sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql').with_variant(mysql.MEDIUMTEXT(), 'mariadb')


def upgrade():
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('webhook_secret_encrypted', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('webhook_url', sa.String(length=2048), nullable=True))
    with op.batch_alter_table('generation_logs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('evaluation_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('job_id', sa.String(length=36), nullable=True))
        batch_op.create_index('ix_generation_logs_job_id', ['job_id'], unique=False)

    op.create_table(
        'jobs',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('operation', sa.String(length=40), nullable=False),
        sa.Column('method', sa.String(length=10), nullable=False),
        sa.Column('path', sa.String(length=255), nullable=False),
        sa.Column('owner_user_id', sa.String(length=64), nullable=False),
        sa.Column('owner_role', sa.String(length=20), nullable=False),
        sa.Column('api_key_id', sa.Integer(), nullable=True),
        sa.Column('req_id', sa.String(length=64), nullable=True),
        sa.Column('candidate_id', sa.String(length=128), nullable=True),
        sa.Column('request_id', sa.String(length=128), nullable=True),
        sa.Column('request', sa.JSON(), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('step', sa.String(length=60), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('max_attempts', sa.Integer(), nullable=False),
        sa.Column('worker', sa.String(length=120), nullable=True),
        sa.Column('created_at', _datetime(), nullable=False),
        sa.Column('started_at', _datetime(), nullable=True),
        sa.Column('heartbeat_at', _datetime(), nullable=True),
        sa.Column('finished_at', _datetime(), nullable=True),
        sa.Column('result_status', sa.Integer(), nullable=True),
        sa.Column('result_body', _long_text(), nullable=True),
        sa.Column('callback_url', sa.String(length=2048), nullable=True),
        sa.ForeignKeyConstraint(['api_key_id'], ['api_keys.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_jobs_owner_created', 'jobs', ['owner_user_id', 'created_at'], unique=False)
    op.create_index('ix_jobs_status_heartbeat', 'jobs', ['status', 'heartbeat_at'], unique=False)
    op.create_index('ix_jobs_req_id', 'jobs', ['req_id'], unique=False)
    op.create_index('ix_jobs_candidate_id', 'jobs', ['candidate_id'], unique=False)

    op.create_table(
        'webhook_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('job_id', sa.String(length=36), nullable=False),
        sa.Column('message_id', sa.String(length=64), nullable=False),
        sa.Column('event_type', sa.String(length=40), nullable=False),
        sa.Column('url', sa.String(length=2048), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', _datetime(), nullable=True),
        sa.Column('created_at', _datetime(), nullable=False),
        sa.Column('completed_at', _datetime(), nullable=True),
        sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('message_id'),
    )
    op.create_index('ix_webhook_deliveries_job_id', 'webhook_deliveries', ['job_id'], unique=False)
    op.create_index('ix_webhook_deliveries_due', 'webhook_deliveries', ['status', 'next_attempt_at'], unique=False)

    op.create_table(
        'webhook_attempts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('delivery_id', sa.Integer(), nullable=False),
        sa.Column('attempt', sa.Integer(), nullable=False),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('error', sa.String(length=500), nullable=True),
        sa.Column('duration_ms', sa.Integer(), nullable=False),
        sa.Column('started_at', _datetime(), nullable=False),
        sa.ForeignKeyConstraint(['delivery_id'], ['webhook_deliveries.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_webhook_attempts_delivery_id', 'webhook_attempts', ['delivery_id'], unique=False)


def downgrade():
    # Dropping a table drops its indexes (MySQL refuses to drop one a foreign key needs first).
    op.drop_table('webhook_attempts')
    op.drop_table('webhook_deliveries')
    op.drop_table('jobs')
    with op.batch_alter_table('generation_logs', schema=None) as batch_op:
        batch_op.drop_index('ix_generation_logs_job_id')
        batch_op.drop_column('job_id')
        batch_op.drop_column('evaluation_id')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_column('webhook_url')
        batch_op.drop_column('webhook_secret_encrypted')
