"""Initial schema: API keys, job descriptions, interviews, questions, question cache, audit.

Revision ID: 0001_initial_schema
Revises: 
Create Date: 2026-11-21 19:38:11.857985

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

# Frozen copies of the model column types (migrations never import models.py).
UTCDateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql').with_variant(mysql.DATETIME(fsp=6), 'mariadb')
LongText = sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql').with_variant(mysql.MEDIUMTEXT(), 'mariadb')
MYSQL_TABLE = {'mysql_charset': 'utf8mb4', 'mysql_collate': 'utf8mb4_unicode_ci'}

# revision identifiers, used by Alembic.
revision = '0001_initial_schema'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('api_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('key_prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', UTCDateTime, nullable=False),
    sa.Column('last_used_at', UTCDateTime, nullable=True),
    sa.Column('revoked_at', UTCDateTime, nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key_hash'),
    **MYSQL_TABLE
    )
    op.create_table('generation_logs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_type', sa.String(length=40), nullable=False),
    sa.Column('req_id', sa.String(length=64), nullable=True),
    sa.Column('user_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('error_kind', sa.String(length=40), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('provider', sa.String(length=20), nullable=True),
    sa.Column('model', sa.String(length=100), nullable=True),
    sa.Column('prompt_version', sa.String(length=20), nullable=True),
    sa.Column('claude_calls', sa.Integer(), nullable=False),
    sa.Column('input_tokens', sa.Integer(), nullable=False),
    sa.Column('output_tokens', sa.Integer(), nullable=False),
    sa.Column('cache_creation_input_tokens', sa.Integer(), nullable=False),
    sa.Column('cache_read_input_tokens', sa.Integer(), nullable=False),
    sa.Column('tokens_used', sa.Integer(), nullable=False),
    sa.Column('latency_ms', sa.Integer(), nullable=True),
    sa.Column('job_description_id', sa.Integer(), nullable=True),
    sa.Column('interview_id', sa.Integer(), nullable=True),
    sa.Column('started_at', UTCDateTime, nullable=False),
    sa.Column('completed_at', UTCDateTime, nullable=True),
    sa.PrimaryKeyConstraint('id'),
    **MYSQL_TABLE
    )
    with op.batch_alter_table('generation_logs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_generation_logs_req_id'), ['req_id'], unique=False)
        batch_op.create_index('ix_generation_logs_started_at', ['started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_generation_logs_user_id'), ['user_id'], unique=False)

    op.create_table('job_descriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('req_id', sa.String(length=64), nullable=False),
    sa.Column('basic_title', sa.String(length=255), nullable=False),
    sa.Column('basic_department', sa.String(length=255), nullable=True),
    sa.Column('basic_level', sa.String(length=100), nullable=True),
    sa.Column('basic_description', LongText, nullable=False),
    sa.Column('work_output', sa.Text(), nullable=True),
    sa.Column('work_role', sa.Text(), nullable=True),
    sa.Column('work_knowledge', sa.Text(), nullable=True),
    sa.Column('work_competencies', sa.Text(), nullable=True),
    sa.Column('enhanced_title', sa.String(length=255), nullable=True),
    sa.Column('enhanced_description', LongText, nullable=True),
    sa.Column('provider', sa.String(length=20), nullable=True),
    sa.Column('model', sa.String(length=100), nullable=True),
    sa.Column('prompt_version', sa.String(length=20), nullable=True),
    sa.Column('created_by_user_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', UTCDateTime, nullable=False),
    sa.Column('enhanced_at', UTCDateTime, nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('req_id'),
    **MYSQL_TABLE
    )
    with op.batch_alter_table('job_descriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_descriptions_created_by_user_id'), ['created_by_user_id'], unique=False)

    op.create_table('question_cache',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=255), nullable=False),
    sa.Column('normalized_topic', sa.String(length=255), nullable=False),
    sa.Column('skill_level', sa.String(length=20), nullable=False),
    sa.Column('question_type', sa.String(length=30), nullable=False),
    sa.Column('question_text', sa.Text(), nullable=False),
    sa.Column('expected_answer', sa.Text(), nullable=True),
    sa.Column('criteria', sa.JSON(), nullable=False),
    sa.Column('usage_count', sa.Integer(), nullable=False),
    sa.Column('tokens_cost', sa.Integer(), nullable=False),
    sa.Column('prompt_version', sa.String(length=20), nullable=True),
    sa.Column('created_at', UTCDateTime, nullable=False),
    sa.Column('last_used_at', UTCDateTime, nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sqlite_autoincrement=True,
    **MYSQL_TABLE
    )
    with op.batch_alter_table('question_cache', schema=None) as batch_op:
        batch_op.create_index('ix_question_cache_key', ['skill_level', 'question_type', 'normalized_topic'], unique=False)

    op.create_table('generation_calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('generation_log_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=40), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=30), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('anthropic_request_id', sa.String(length=128), nullable=True),
    sa.Column('model', sa.String(length=100), nullable=True),
    sa.Column('input_tokens', sa.Integer(), nullable=False),
    sa.Column('output_tokens', sa.Integer(), nullable=False),
    sa.Column('cache_creation_input_tokens', sa.Integer(), nullable=False),
    sa.Column('cache_read_input_tokens', sa.Integer(), nullable=False),
    sa.Column('latency_ms', sa.Integer(), nullable=False),
    sa.Column('started_at', UTCDateTime, nullable=False),
    sa.ForeignKeyConstraint(['generation_log_id'], ['generation_logs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    **MYSQL_TABLE
    )
    with op.batch_alter_table('generation_calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_generation_calls_generation_log_id'), ['generation_log_id'], unique=False)

    op.create_table('interviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_description_id', sa.Integer(), nullable=False),
    sa.Column('req_id', sa.String(length=64), nullable=False),
    sa.Column('interview_name', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=True),
    sa.Column('model', sa.String(length=100), nullable=True),
    sa.Column('prompt_version', sa.String(length=20), nullable=True),
    sa.Column('created_by_user_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', UTCDateTime, nullable=False),
    sa.Column('updated_at', UTCDateTime, nullable=True),
    sa.ForeignKeyConstraint(['job_description_id'], ['job_descriptions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('job_description_id', 'version', name='uq_interviews_jd_version'),
    **MYSQL_TABLE
    )
    with op.batch_alter_table('interviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interviews_created_by_user_id'), ['created_by_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interviews_job_description_id'), ['job_description_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interviews_req_id'), ['req_id'], unique=False)

    op.create_table('interview_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('interview_id', sa.Integer(), nullable=False),
    sa.Column('question_number', sa.Integer(), nullable=False),
    sa.Column('question_text', sa.Text(), nullable=False),
    sa.Column('question_type', sa.String(length=30), nullable=False),
    sa.Column('topic', sa.String(length=255), nullable=True),
    sa.Column('skill_level', sa.String(length=20), nullable=True),
    sa.Column('expected_answer', sa.Text(), nullable=True),
    sa.Column('criteria', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('cache_entry_id', sa.Integer(), nullable=True),
    sa.Column('created_at', UTCDateTime, nullable=False),
    sa.ForeignKeyConstraint(['cache_entry_id'], ['question_cache.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['interview_id'], ['interviews.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('interview_id', 'question_number', name='uq_questions_interview_number'),
    **MYSQL_TABLE
    )
    with op.batch_alter_table('interview_questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interview_questions_interview_id'), ['interview_id'], unique=False)



def downgrade():
    # Dropping a table drops its indexes; dropping an index first fails on MySQL when a
    # foreign key needs it. Children before parents.
    for table in (
        'interview_questions',
        'interviews',
        'generation_calls',
        'question_cache',
        'job_descriptions',
        'generation_logs',
        'api_keys',
    ):
        op.drop_table(table)
