"""Usage audit: cost per call and per operation, unpriced call counts, per-key token budgets,
and an index for per-user time windows.

Revision ID: 0004_usage_audit
Revises: 0003_evaluations
"""
import sqlalchemy as sa
from alembic import op

revision = '0004_usage_audit'
down_revision = '0003_evaluations'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('generation_calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cost_usd', sa.Numeric(precision=14, scale=6), nullable=True))
    with op.batch_alter_table('generation_logs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cost_usd', sa.Numeric(precision=14, scale=6), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('unpriced_calls', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_index('ix_generation_logs_user_started', ['user_id', 'started_at'], unique=False)
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('daily_token_budget', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('monthly_token_budget', sa.BigInteger(), nullable=True))


def downgrade():
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_column('monthly_token_budget')
        batch_op.drop_column('daily_token_budget')
    with op.batch_alter_table('generation_logs', schema=None) as batch_op:
        batch_op.drop_index('ix_generation_logs_user_started')
        batch_op.drop_column('unpriced_calls')
        batch_op.drop_column('cost_usd')
    with op.batch_alter_table('generation_calls', schema=None) as batch_op:
        batch_op.drop_column('cost_usd')
