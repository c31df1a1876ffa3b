"""Fair hiring: the fair-hiring guard's findings of each audited operation, counts only.

generation_logs.fairness_findings: {source: {category: count}} (sources: "generated" for
Claude's rejected output, "cache" for cache entries not reused, "input" for the hiring
manager's text, "evidence" for evaluation quotes not counted); null when nothing was found.
Never the text.

Revision ID: 0008_fairness_findings
Revises: 0007_jobs_and_webhooks
"""
import sqlalchemy as sa
from alembic import op

revision = '0008_fairness_findings'
down_revision = '0007_jobs_and_webhooks'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('generation_logs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fairness_findings', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('generation_logs', schema=None) as batch_op:
        batch_op.drop_column('fairness_findings')
