"""Candidate evaluations (scorecards) and their per-question results.

Revision ID: 0003_evaluations
Revises: 0002_question_cache
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0003_evaluations'
down_revision = '0002_question_cache'
branch_labels = None
depends_on = None

UTCDateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql').with_variant(mysql.DATETIME(fsp=6), 'mariadb')
LongText = sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql').with_variant(mysql.MEDIUMTEXT(), 'mariadb')
MYSQL_TABLE = {'mysql_charset': 'utf8mb4', 'mysql_collate': 'utf8mb4_unicode_ci'}


def upgrade():
    op.create_table(
        'evaluations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('interview_id', sa.Integer(), nullable=False),
        sa.Column('req_id', sa.String(length=64), nullable=False),
        sa.Column('candidate_id', sa.String(length=128), nullable=False),
        sa.Column('candidate_name', sa.String(length=255), nullable=True),
        sa.Column('evaluator', sa.String(length=255), nullable=True),
        sa.Column('mode', sa.String(length=10), nullable=False),
        sa.Column('overall_score', sa.Numeric(precision=4, scale=1), nullable=False),
        sa.Column('recommendation', sa.String(length=10), nullable=False),
        sa.Column('advance_threshold', sa.Numeric(precision=4, scale=1), nullable=False),
        sa.Column('reject_threshold', sa.Numeric(precision=4, scale=1), nullable=False),
        sa.Column('tokens_used', sa.Integer(), nullable=False),
        sa.Column('provider', sa.String(length=20), nullable=True),
        sa.Column('model', sa.String(length=100), nullable=True),
        sa.Column('prompt_version', sa.String(length=20), nullable=True),
        sa.Column('created_by_user_id', sa.String(length=64), nullable=True),
        sa.Column('created_at', UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(['interview_id'], ['interviews.id']),
        sa.PrimaryKeyConstraint('id'),
        sqlite_autoincrement=True,
        **MYSQL_TABLE,
    )
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.create_index('ix_evaluations_interview_id', ['interview_id'], unique=False)
        batch_op.create_index('ix_evaluations_candidate_id', ['candidate_id'], unique=False)
        batch_op.create_index('ix_evaluations_created_by_user_id', ['created_by_user_id'], unique=False)
        batch_op.create_index('ix_evaluations_req_id_score', ['req_id', 'overall_score'], unique=False)

    op.create_table(
        'evaluation_questions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('evaluation_id', sa.Integer(), nullable=False),
        sa.Column('question_number', sa.Integer(), nullable=False),
        sa.Column('score', sa.Numeric(precision=3, scale=1), nullable=False),
        sa.Column('feedback', sa.Text(), nullable=True),
        sa.Column('notes', sa.Text(), nullable=True),
        sa.Column('answer_text', LongText, nullable=True),
        sa.Column('criteria', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['evaluation_id'], ['evaluations.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('evaluation_id', 'question_number', name='uq_evaluation_questions_number'),
        **MYSQL_TABLE,
    )
    with op.batch_alter_table('evaluation_questions', schema=None) as batch_op:
        batch_op.create_index('ix_evaluation_questions_evaluation_id', ['evaluation_id'], unique=False)


def downgrade():
    op.drop_table('evaluation_questions')
    op.drop_table('evaluations')
