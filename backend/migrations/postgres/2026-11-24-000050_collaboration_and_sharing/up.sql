-- The organization apps: Project Collaboration (projects and their tasks) and Sharing
-- (dashboards of an organization's DMSs shared with other people).

CREATE TABLE projects (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('planned', 'active', 'on_hold', 'done')),
    start_date DATE,
    due_date DATE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (start_date IS NULL OR due_date IS NULL OR due_date >= start_date)
);
CREATE INDEX projects_by_organization ON projects (organization_id, name);

CREATE TABLE project_tasks (
    id TEXT PRIMARY KEY NOT NULL,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('todo', 'in_progress', 'done')),
    -- Order within the project, from 1.
    position INTEGER NOT NULL
);
CREATE INDEX project_tasks_by_project ON project_tasks (project_id, position);

CREATE TABLE shared_dashboards (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    system_id TEXT NOT NULL REFERENCES systems (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    -- As written when sharing: addresses, or "Everyone at <organization>".
    shared_with TEXT NOT NULL,
    -- Who shared it; kept as NULL when that account is deleted.
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX shared_dashboards_by_organization ON shared_dashboards (organization_id, name);
CREATE INDEX shared_dashboards_by_system ON shared_dashboards (system_id);
