"""Production hardening: idempotency keys, request id on generation_logs.

Revision ID: 0005_hardening
Revises: 0004_usage_audit
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0005_hardening'
down_revision = '0004_usage_audit'
branch_labels = None
depends_on = None

UTCDateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql').with_variant(mysql.DATETIME(fsp=6), 'mariadb')
LongText = sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql').with_variant(mysql.MEDIUMTEXT(), 'mariadb')
MYSQL_TABLE = {'mysql_charset': 'utf8mb4', 'mysql_collate': 'utf8mb4_unicode_ci'}


def upgrade():
    op.create_table(
        'idempotency_keys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('owner', sa.String(length=64), nullable=False),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('method', sa.String(length=10), nullable=False),
        sa.Column('path', sa.String(length=255), nullable=False),
        sa.Column('request_hash', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('response_status', sa.Integer(), nullable=True),
        sa.Column('response_body', LongText, nullable=True),
        sa.Column('created_at', UTCDateTime, nullable=False),
        sa.Column('expires_at', UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('owner', 'key', name='uq_idempotency_owner_key'),
        **MYSQL_TABLE,
    )
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index('ix_idempotency_keys_expires_at', ['expires_at'], unique=False)
    with op.batch_alter_table('generation_logs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_id', sa.String(length=128), nullable=True))
        batch_op.create_index('ix_generation_logs_request_id', ['request_id'], unique=False)


def downgrade():
    with op.batch_alter_table('generation_logs', schema=None) as batch_op:
        batch_op.drop_index('ix_generation_logs_request_id')
        batch_op.drop_column('request_id')
    op.drop_table('idempotency_keys')
