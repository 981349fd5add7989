DROP TABLE shared_dashboards;
DROP TABLE project_tasks;
DROP TABLE projects;
