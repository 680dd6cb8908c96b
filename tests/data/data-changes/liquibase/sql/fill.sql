-- script
insert into people (id, name) values (10, 'from file');

insert into people (id, name) values (11, 'x');
