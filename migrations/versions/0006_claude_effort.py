"""Today's Claude: the effort of every audited call and operation.

generation_calls.effort: the output_config.effort sent (null: none sent, the model's default).
generation_logs.effort: the effort of the operation's calls, "mixed" when they differ.

Revision ID: 0006_claude_effort
Revises: 0005_hardening
"""
import sqlalchemy as sa
from alembic import op

revision = '0006_claude_effort'
down_revision = '0005_hardening'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('generation_calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('effort', sa.String(length=10), nullable=True))
    with op.batch_alter_table('generation_logs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('effort', sa.String(length=10), nullable=True))


def downgrade():
    with op.batch_alter_table('generation_logs', schema=None) as batch_op:
        batch_op.drop_column('effort')
    with op.batch_alter_table('generation_calls', schema=None) as batch_op:
        batch_op.drop_column('effort')
