-- Results database and roles for the coordination engine (runs once, on first start).
CREATE ROLE coord LOGIN PASSWORD 'coord';
CREATE DATABASE coord OWNER coord;
