"""Question cache: unique key per (skill_level, question_type, normalized_topic), LRU index,
cache counters on generation_logs.

Revision ID: 0002_question_cache
Revises: 0001_initial_schema
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0002_question_cache'
down_revision = '0001_initial_schema'
branch_labels = None
depends_on = None

UTCDateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql').with_variant(mysql.DATETIME(fsp=6), 'mariadb')


def upgrade():
    # Entries never used keep their insert time as last use, so LRU ordering needs no NULLs.
    op.execute("UPDATE question_cache SET last_used_at = created_at WHERE last_used_at IS NULL")
    with op.batch_alter_table('question_cache', schema=None) as batch_op:
        batch_op.alter_column('last_used_at', existing_type=UTCDateTime, nullable=False)
        batch_op.drop_index('ix_question_cache_key')
        batch_op.create_unique_constraint('uq_question_cache_key', ['skill_level', 'question_type', 'normalized_topic'])
        batch_op.create_index('ix_question_cache_last_used_at', ['last_used_at'], unique=False)

    with op.batch_alter_table('generation_logs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cache_hits', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('cache_misses', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('tokens_avoided', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('generation_logs', schema=None) as batch_op:
        batch_op.drop_column('tokens_avoided')
        batch_op.drop_column('cache_misses')
        batch_op.drop_column('cache_hits')

    with op.batch_alter_table('question_cache', schema=None) as batch_op:
        batch_op.drop_index('ix_question_cache_last_used_at')
        batch_op.drop_constraint('uq_question_cache_key', type_='unique')
        batch_op.create_index('ix_question_cache_key', ['skill_level', 'question_type', 'normalized_topic'], unique=False)
        batch_op.alter_column('last_used_at', existing_type=UTCDateTime, nullable=True)
