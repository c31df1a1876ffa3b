"""The WORK coverage map.

interviews.work_items: the WORK knowledge and competency items the kit was made for (JSON list of
{item, kind}; null for kits stored before this revision).
interview_questions.covers: the items each question tests (JSON list of item strings; null before).

Both nullable, no backfill: older kits answer coverage null and an empty map.

Revision ID: 0009_work_coverage
Revises: 0008_fairness_findings
"""
import sqlalchemy as sa
from alembic import op

revision = '0009_work_coverage'
down_revision = '0008_fairness_findings'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('interviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('work_items', sa.JSON(), nullable=True))
    with op.batch_alter_table('interview_questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('covers', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('interview_questions', schema=None) as batch_op:
        batch_op.drop_column('covers')
    with op.batch_alter_table('interviews', schema=None) as batch_op:
        batch_op.drop_column('work_items')
