"""matching workflow

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('match_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('params', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('solver_status', sa.String(length=16), nullable=False),
    sa.Column('filled', sa.Integer(), nullable=False),
    sa.Column('total_need', sa.Integer(), nullable=False),
    sa.Column('score', sa.Double(), nullable=False),
    sa.Column('bound', sa.Double(), nullable=False),
    sa.Column('gap', sa.Double(), nullable=False),
    sa.Column('time_s', sa.Double(), nullable=False),
    sa.Column('unfilled', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('stability', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirmed_by', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_match_runs_batch_id_batches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_runs'))
    )
    with op.batch_alter_table('match_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_runs_batch_id'), ['batch_id'], unique=False)

    op.create_table('cap_exceptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expert_application_id', sa.Integer(), nullable=False),
    sa.Column('max_universities', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('granted_by', sa.String(length=64), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['expert_application_id'], ['applications.id'], name=op.f('fk_cap_exceptions_expert_application_id_applications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cap_exceptions')),
    sa.UniqueConstraint('expert_application_id', name=op.f('uq_cap_exceptions_expert_application_id'))
    )
    op.create_table('appointments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('demand_id', sa.Integer(), nullable=False),
    sa.Column('expert_application_id', sa.Integer(), nullable=False),
    sa.Column('university_application_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('score', sa.Double(), nullable=False),
    sa.Column('offered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answer_by', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expert_response', sa.String(length=16), nullable=True),
    sa.Column('expert_reason', sa.Text(), nullable=True),
    sa.Column('expert_responded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('university_response', sa.String(length=16), nullable=True),
    sa.Column('university_reason', sa.Text(), nullable=True),
    sa.Column('university_responded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('publicity_starts_on', sa.Date(), nullable=True),
    sa.Column('publicity_ends_on', sa.Date(), nullable=True),
    sa.Column('objections', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('agreement', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('filed_on', sa.Date(), nullable=True),
    sa.Column('filing_note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['demand_id'], ['course_demands.id'], name=op.f('fk_appointments_demand_id_course_demands'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['expert_application_id'], ['applications.id'], name=op.f('fk_appointments_expert_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['match_runs.id'], name=op.f('fk_appointments_run_id_match_runs')),
    sa.ForeignKeyConstraint(['university_application_id'], ['applications.id'], name=op.f('fk_appointments_university_application_id_applications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointments'))
    )
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appointments_demand_id'), ['demand_id'], unique=False)
        batch_op.create_index('ix_appointments_expert_status', ['expert_application_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointments_university_application_id'), ['university_application_id'], unique=False)

    op.create_table('match_proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('demand_id', sa.Integer(), nullable=False),
    sa.Column('expert_application_id', sa.Integer(), nullable=False),
    sa.Column('university_application_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Double(), nullable=False),
    sa.Column('terms', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('fixed', sa.Boolean(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['demand_id'], ['course_demands.id'], name=op.f('fk_match_proposals_demand_id_course_demands'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['expert_application_id'], ['applications.id'], name=op.f('fk_match_proposals_expert_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['match_runs.id'], name=op.f('fk_match_proposals_run_id_match_runs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['university_application_id'], ['applications.id'], name=op.f('fk_match_proposals_university_application_id_applications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_proposals'))
    )
    with op.batch_alter_table('match_proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_proposals_run_id'), ['run_id'], unique=False)

    op.create_table('recommendations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('demand_id', sa.Integer(), nullable=False),
    sa.Column('expert_application_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('score', sa.Double(), nullable=False),
    sa.Column('terms', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('choice', sa.String(length=20), nullable=True),
    sa.Column('want_rank', sa.Integer(), nullable=True),
    sa.Column('chosen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['demand_id'], ['course_demands.id'], name=op.f('fk_recommendations_demand_id_course_demands'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['expert_application_id'], ['applications.id'], name=op.f('fk_recommendations_expert_application_id_applications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recommendations')),
    sa.UniqueConstraint('demand_id', 'expert_application_id', name='uq_recommendations_demand_expert')
    )
    with op.batch_alter_table('recommendations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recommendations_demand_id'), ['demand_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recommendations_expert_application_id'), ['expert_application_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('recommendations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recommendations_expert_application_id'))
        batch_op.drop_index(batch_op.f('ix_recommendations_demand_id'))

    op.drop_table('recommendations')
    with op.batch_alter_table('match_proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_proposals_run_id'))

    op.drop_table('match_proposals')
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appointments_university_application_id'))
        batch_op.drop_index('ix_appointments_expert_status')
        batch_op.drop_index(batch_op.f('ix_appointments_demand_id'))

    op.drop_table('appointments')
    op.drop_table('cap_exceptions')
    with op.batch_alter_table('match_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_runs_batch_id'))

    op.drop_table('match_runs')
